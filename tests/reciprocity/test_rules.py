"""reciprocity.rules decides who earns what without the database; the missed-meeting
job's SQL, the ORM and rules.member_at agree on who was in a crew at a meeting's start."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from congregations.models import Congregation
from congregations.tenancy import tenant
from crews.models import CrewMembership
from crews.selectors import members_at
from crews.services import form_crew, leave_crew
from reciprocity import rules
from reciprocity.models import LedgerEntry
from reciprocity.rules import (
    Rule,
    consistency_points,
    listening_round_awards,
    member_at,
    money_round_awards,
)
from reciprocity.services import apply_missed_meeting_deductions
from tests.builders import GRACE, join, new_members, scheduled_meeting

pytestmark = pytest.mark.embedded

START = datetime(2026, 3, 3, 19, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_a_listening_round_scores_each_participant_only_when_everyone_listened() -> None:
    assert listening_round_awards(participants=["a", "b"], everyone_listened=True) == [
        ("a", Rule.LISTENED),
        ("b", Rule.LISTENED),
    ]
    assert listening_round_awards(participants=["a", "b"], everyone_listened=False) == []


@pytest.mark.parametrize(
    ("asked", "offerers", "mutual_respect", "awards"),
    [
        (True, ["o1", "o2"], True, [
            ("f", Rule.ASKED), ("o1", Rule.OFFERED), ("o2", Rule.OFFERED),
            ("f", Rule.MUTUAL_RESPECT), ("o1", Rule.MUTUAL_RESPECT), ("o2", Rule.MUTUAL_RESPECT),
        ]),
        (True, [], True, [("f", Rule.ASKED)]),  # mutual respect needs an offer
        (False, ["o1"], False, [("o1", Rule.OFFERED)]),
        (False, [], False, []),
    ],
)  # fmt: skip
def test_a_money_round_scores_asking_offering_and_mutual_respect(
    asked: bool, offerers: list[str], mutual_respect: bool, awards: list[tuple[str, Rule]]
) -> None:
    assert (
        money_round_awards(focus="f", asked=asked, offerers=offerers, mutual_respect=mutual_respect)
        == awards
    )


def test_consistency_points_are_1_then_3_then_5() -> None:
    assert [consistency_points(n) for n in range(1, 6)] == [1, 3, 5, 5, 5]
    with pytest.raises(ValueError):
        consistency_points(0)


@pytest.mark.parametrize(
    ("joined_at", "left_at", "member"),
    [
        (START, None, True),
        (START + SECOND, None, False),
        (START - SECOND, START, False),
        (START - SECOND, START + SECOND, True),
        (START - SECOND, None, True),
    ],
)
def test_a_member_at_the_start_joined_by_then_and_had_not_left(
    joined_at: datetime, left_at: datetime | None, member: bool
) -> None:
    assert member_at(joined_at, left_at, START) is member


def test_the_deduction_sql_the_orm_and_the_rules_agree_on_who_was_in_the_crew(
    congregation: Congregation,
) -> None:
    """Joined or left exactly at the start, or a second after: the SQL job deducts −5 from
    exactly those the ORM and rules.member_at count as in the crew at the start."""
    steady, leaves_at_start, leaves_after, joins_at_start, joins_after = new_members(
        congregation, 5
    )
    crew = form_crew(
        congregation=congregation,
        name="Edges",
        members=[steady, leaves_at_start, leaves_after],
        now=START - 30 * timedelta(days=1),
    )
    meeting = scheduled_meeting(crew, START)
    leave_crew(crew=crew, member=leaves_at_start, now=START)
    join(crew, joins_at_start, invited_by=steady, at=START)
    leave_crew(crew=crew, member=leaves_after, now=START + SECOND)
    join(crew, joins_after, invited_by=steady, at=START + SECOND)

    # Nobody logged the meeting: everyone in the crew at its start missed it.
    apply_missed_meeting_deductions(now=START + GRACE + SECOND)

    with tenant(crew):
        deducted = set(
            LedgerEntry.objects.filter(meeting=meeting, rule=Rule.MISSED).values_list(
                "member_id", flat=True
            )
        )
        orm = set(members_at(crew=crew, moment=START).values_list("pk", flat=True))
        rules = {
            seat.member_id
            for seat in CrewMembership.objects.filter(crew=crew)
            if member_at(seat.joined_at, seat.left_at, START)
        }
    assert deducted == orm == rules == {steady.pk, joins_at_start.pk, leaves_after.pk}


def test_the_rules_import_no_models() -> None:
    tree = ast.parse(Path(rules.__file__).read_text())
    modules = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {
        alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names
    }
    # Django's choices base classes are plain enums; no model, of this app or another.
    assert [m for m in modules if "models" in m.split(".")] == ["django.db.models.enums"]


def test_the_readme_states_the_rule_for_leaving_word_for_word() -> None:
    readme = Path(rules.__file__).resolve().parent.parent / "README.md"
    quoted = " ".join(
        line.removeprefix(">").strip()
        for line in readme.read_text().splitlines()
        if line.startswith(">")
    )
    assert rules.WHEN_SOMEONE_LEAVES in quoted
