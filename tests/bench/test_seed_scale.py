"""The bench's seeded world at a tiny scale: the same seed gives the same rows, and the rows
are what the services would have written, so the missed-meeting job finds exactly one
month's work in them and the bench's SQL floor agrees with it."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import F

from bench import deductions
from bench.load import first_ids, load
from bench.rows import TABLES
from bench.world import Shape, World
from congregations.models import Congregation
from crews.models import Attendance, Crew, Meeting, MeetingStatus
from crews.selectors import members_at
from reciprocity.models import (
    Conflict,
    ConflictStatus,
    CoOwner,
    LedgerEntry,
    ListeningRound,
    MoneyRound,
    Venture,
)
from reciprocity.rules import POINTS, Rule, consistency_points
from reciprocity.services import apply_missed_meeting_deductions

TINY = Shape(congregations=2, members=20, months=14)
UNTIL = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def world(seed: int = 7) -> World:
    return World(shape=TINY, seed=seed, until=UNTIL, password="not-a-real-hash")


def rows(generated: World) -> list[dict[type, list[tuple]]]:
    return [dict(congregation) for congregation in generated.congregations()]


def test_the_same_seed_gives_the_same_rows_and_another_seed_others() -> None:
    assert rows(world()) == rows(world())
    assert rows(world()) != rows(world(seed=8))


@pytest.fixture
def loaded(db: None) -> dict[str, int]:
    generated = World(
        shape=TINY, seed=7, until=UNTIL, password="not-a-real-hash", ids=first_ids(connection)
    )
    # The bulk path: constraints dropped for the load and re-added, which checks every row.
    return load(connection, generated.congregations(), bulk=True)


def keyed(rule: Rule) -> dict[str, int]:
    return dict(LedgerEntry.objects.filter(rule=rule).values_list("idempotency_key", "points"))


def test_every_table_is_filled_and_every_row_carries_its_congregation(
    loaded: dict[str, int],
) -> None:
    assert set(loaded) == {table.name for table in TABLES}
    assert all(loaded.values())
    assert Congregation.objects.count() == 2
    for model, parent in [
        (Attendance, "meeting"),
        (Meeting, "crew"),
        (LedgerEntry, "crew"),
        (LedgerEntry, "meeting"),
        (ListeningRound, "meeting"),
        (MoneyRound, "meeting"),
        (Conflict, "crew"),
        (CoOwner, "venture"),
    ]:
        strays = model._default_manager.filter(**{f"{parent}__isnull": False}).exclude(
            congregation_id=F(f"{parent}__congregation_id")
        )
        assert not strays.exists(), f"{model.__name__} in another congregation than its {parent}"


def test_consistency_points_count_each_members_logged_meetings(loaded: dict[str, int]) -> None:
    expected = {}
    seen: dict[tuple[int, int], int] = defaultdict(int)
    for meeting_id, crew_id, member_id in (
        Attendance.objects.filter(present=True, meeting__status=MeetingStatus.LOGGED)
        .order_by("meeting__starts_at")
        .values_list("meeting_id", "meeting__crew_id", "member_id")
    ):
        seen[crew_id, member_id] += 1
        nth = seen[crew_id, member_id]
        expected[f"attended:{meeting_id}:{member_id}"] = consistency_points(nth)
    assert keyed(Rule.ATTENDED) == expected
    assert set(expected.values()) == {1, 3, 5}


def test_rounds_score_as_the_rules_say(loaded: dict[str, int]) -> None:
    listened = {
        f"listened:{r.pk}:{p.participant_id}": POINTS[Rule.LISTENED]
        for r in ListeningRound.objects.filter(everyone_listened=True)
        for p in r.participants.all()
    }
    assert keyed(Rule.LISTENED) == listened
    asked, offered, respect = {}, {}, {}
    for money in MoneyRound.objects.prefetch_related("offers"):
        offerers = {o.offerer_id for o in money.offers.all()}
        if money.asked:
            asked[f"asked:{money.pk}:{money.focus_id}"] = POINTS[Rule.ASKED]
        for person in offerers:
            offered[f"offered:{money.pk}:{person}"] = POINTS[Rule.OFFERED]
        if money.mutual_respect and offerers:
            for person in {money.focus_id, *offerers}:
                respect[f"mutual_respect:{money.pk}:{person}"] = POINTS[Rule.MUTUAL_RESPECT]
    assert keyed(Rule.ASKED) == asked
    assert keyed(Rule.OFFERED) == offered
    assert keyed(Rule.MUTUAL_RESPECT) == respect
    assert asked and offered and respect


def test_conflicts_and_ventures_score_once_closed_or_confirmed(loaded: dict[str, int]) -> None:
    closed = {ConflictStatus.RESOLVED: Rule.RESOLVED, ConflictStatus.UNRESOLVED: Rule.UNRESOLVED}
    closed[ConflictStatus.EXPIRED] = Rule.EXPIRED
    expected = {}
    for conflict in Conflict.objects.prefetch_related("parties"):
        rule = closed.get(ConflictStatus(conflict.status))
        if rule is None:
            continue
        for party in conflict.parties.all():
            outcome = "resolved" if rule == Rule.RESOLVED else "lost"
            expected[f"conflict-{outcome}:{conflict.pk}:{party.party_id}"] = POINTS[rule]
    written = keyed(Rule.RESOLVED) | keyed(Rule.UNRESOLVED) | keyed(Rule.EXPIRED)
    assert written == expected
    co_owned = {
        f"co-owned:{share.venture_id}:{share.co_owner_id}": POINTS[Rule.CO_OWNED]
        for share in CoOwner.objects.filter(venture__confirmed_at__isnull=False)
    }
    assert keyed(Rule.CO_OWNED) == co_owned
    assert Venture.objects.filter(confirmed_at__isnull=True).exists()


def missed(meetings: list[Meeting]) -> set[str]:
    """Who the rules say missed each meeting: in the crew at its start, not marked present
    at it (nobody is, at a meeting nobody logged)."""
    keys = set()
    for meeting in meetings:
        if meeting.status == MeetingStatus.CANCELLED:
            continue
        here = set(meeting.attendances.filter(present=True).values_list("member_id", flat=True))
        if meeting.status != MeetingStatus.LOGGED:
            here = set()
        for person in members_at(crew=meeting.crew, moment=meeting.starts_at):
            if person.pk not in here:
                keys.add(f"missed:{meeting.pk}:{person.pk}")
    return keys


def test_settled_meetings_have_their_deductions_and_the_last_month_is_left_to_the_job(
    loaded: dict[str, int],
) -> None:
    settled = list(Meeting.objects.filter(deductions_applied_at__isnull=False))
    unsettled = list(Meeting.objects.filter(deductions_applied_at__isnull=True))
    crews = Crew.objects.count()
    assert len(unsettled) == crews  # one meeting each, the most recent month's
    assert all(m.starts_at < NOW - timedelta(hours=48) for m in unsettled)
    assert min(m.starts_at for m in unsettled) > max(m.starts_at for m in settled)
    assert set(keyed(Rule.MISSED)) == missed(settled)
    assert not LedgerEntry.objects.filter(meeting__in=unsettled).filter(rule=Rule.MISSED)

    due = missed(unsettled)
    assert due
    assert deductions.floor(NOW)[1] == len(due)
    assert apply_missed_meeting_deductions(now=NOW) == len(due)
    assert set(keyed(Rule.MISSED)) == missed(settled) | due
    assert all(points == POINTS[Rule.MISSED] for points in keyed(Rule.MISSED).values())
    assert apply_missed_meeting_deductions(now=NOW) == 0
    assert deductions.floor(NOW)[1] == 0
