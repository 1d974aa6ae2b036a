"""Nobody corrects their own points: another facilitator does, and any facilitator can
correct a missed-meeting deduction from its link, seeing that entry and nothing of the
crew's meetings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from congregations.models import Congregation, Role, Self
from congregations.tenancy import tenant
from crews.models import CREW_NAME_LENGTH, Crew
from crews.services import form_crew, update_meeting_notes
from reciprocity.models import CORRECTION_REASON_LENGTH, LedgerEntry
from reciprocity.rules import REASON_LENGTH, Rule
from reciprocity.services import apply_missed_meeting_deductions, reverse_entry
from tests.builders import (
    GRACE,
    HOUR,
    congregation_url,
    held_meeting,
    people,
    refused,
    signed_in,
    snapshot,
)
from tests.pages import text

from ..factories import MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

REFLECTIONS = "We talked about Ana's garden and the loan"
ENVISIONING = "A tool library by spring"


def missed(crew: Crew, absent: Self) -> LedgerEntry:
    """``absent``'s −5 for a meeting of ``crew`` the others logged, with notes."""
    starts_at = timezone.now() - GRACE - 3 * HOUR
    others = [p for p in people(crew) if p != absent]
    meeting = held_meeting(crew, others, starts_at + HOUR)
    update_meeting_notes(
        meeting=meeting, edited_by=others[0], reflections=REFLECTIONS, envisioning=ENVISIONING
    )
    apply_missed_meeting_deductions(now=starts_at + GRACE + HOUR)
    with tenant(crew):
        return LedgerEntry.objects.get(meeting=meeting, member=absent, rule=Rule.MISSED)


@pytest.fixture
def second_facilitator(congregation: Congregation) -> Self:
    return MembershipFactory.create(congregation=congregation, role=Role.FACILITATOR).member


@pytest.fixture
def facilitators_crew(
    congregation: Congregation, facilitator: Self, member: Self, crew_mate: Self
) -> Crew:
    return form_crew(
        congregation=congregation,
        name="Facilitators' crew",
        members=[facilitator, member, crew_mate],
        now=timezone.now() - timedelta(days=30),
    )


def test_a_facilitator_cannot_reverse_their_own_entry(
    facilitators_crew: Crew, facilitator: Self
) -> None:
    own = missed(facilitators_crew, facilitator)

    with refused("Nobody corrects their own points: another facilitator can correct this entry."):
        reverse_entry(entry=own, reversed_by=facilitator, reason="I was there")


def test_another_facilitator_reverses_it(
    facilitators_crew: Crew, facilitator: Self, second_facilitator: Self
) -> None:
    own = missed(facilitators_crew, facilitator)

    correction = reverse_entry(entry=own, reversed_by=second_facilitator, reason="She was there")

    assert (correction.points, correction.reverses, correction.recorded_by) == (
        5,
        own,
        second_facilitator,
    )


def test_a_correction_says_in_plain_words_whose_points_it_reversed_and_why(
    congregation: Congregation, crew: Crew, facilitator: Self, member: Self
) -> None:
    deduction = missed(crew, member)

    correction = reverse_entry(entry=deduction, reversed_by=facilitator, reason="She was there")

    assert correction.reason == (
        f"Reversed {member.display_name}’s −5 for “{deduction.reason}”: She was there"
    )
    page = text(signed_in(member).get(congregation_url("reciprocity:my_entries", congregation)))
    assert correction.reason in page
    # On the reader's clock: an hour before midnight in UTC it is already the next day.
    corrected_on = correction.recorded_at.astimezone(member.timezone)
    assert f"Corrected on {corrected_on:%-d %b %Y} by {facilitator}" in page


def test_a_facilitators_own_entries_offer_no_correction_and_a_forged_one_is_refused(
    congregation: Congregation, facilitators_crew: Crew, facilitator: Self
) -> None:
    own = missed(facilitators_crew, facilitator)
    client = signed_in(facilitator)
    assert (
        "Correct this entry"
        not in client.get(congregation_url("reciprocity:my_entries", congregation)).content.decode()
    )
    before = snapshot()

    response = client.post(
        congregation_url("reciprocity:reverse_entry", congregation, pk=own.pk), {"reason": "Mine"}
    )

    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Nobody corrects their own points: another facilitator can correct this entry."
    ]
    assert snapshot() == before


def test_a_facilitator_outside_the_crew_corrects_a_members_deduction_seeing_only_it(
    congregation: Congregation, crew: Crew, facilitator: Self, member: Self
) -> None:
    deduction = missed(crew, member)
    entry_url = congregation_url("reciprocity:entry", congregation, pk=deduction.pk)
    client = signed_in(facilitator)

    page = client.get(entry_url).content.decode()

    assert escape(member.display_name) in page
    assert "Correct this entry" in page and "Reverse these −5 points" in page
    assert escape(REFLECTIONS) not in page and escape(ENVISIONING) not in page

    response = client.post(
        congregation_url("reciprocity:reverse_entry", congregation, pk=deduction.pk),
        {"reason": "Was there, the log missed her", "next": entry_url},
    )

    assert response["Location"] == entry_url
    with tenant(congregation):
        correction = LedgerEntry.objects.get(reverses=deduction)
    assert (correction.points, correction.member, correction.recorded_by) == (
        5,
        member,
        facilitator,
    )
    assert "corrected" in client.get(entry_url).content.decode()


def test_the_member_finds_the_link_to_send_a_facilitator_in_their_entries(
    congregation: Congregation, crew: Crew, member: Self
) -> None:
    deduction = missed(crew, member)

    page = (
        signed_in(member)
        .get(congregation_url("reciprocity:my_entries", congregation))
        .content.decode()
    )

    assert congregation_url("reciprocity:entry", congregation, pk=deduction.pk) in page
    assert "Correct this entry" not in page


def test_outside_the_crew_a_facilitator_sees_no_other_kind_of_entry_and_a_member_none(
    congregation: Congregation, crew: Crew, facilitator: Self, member: Self, neighbour: Self
) -> None:
    deduction = missed(crew, member)
    with tenant(crew):
        attended = LedgerEntry.objects.filter(crew=crew, rule=Rule.ATTENDED).first()
    assert attended is not None

    assert (
        signed_in(facilitator)
        .get(congregation_url("reciprocity:entry", congregation, pk=attended.pk))
        .status_code
        == 404
    )
    assert (
        signed_in(neighbour)
        .get(congregation_url("reciprocity:entry", congregation, pk=deduction.pk))
        .status_code
        == 404
    )


def test_the_entry_page_is_for_no_outsider_and_takes_no_post(
    client: Client, congregation: Congregation, crew: Crew, member: Self, outsider: Self
) -> None:
    deduction = missed(crew, member)
    entry_url = congregation_url("reciprocity:entry", congregation, pk=deduction.pk)

    assert signed_in(outsider).get(entry_url).status_code == 404
    assert signed_in(member).get(entry_url).status_code == 200
    assert signed_in(member).post(entry_url).status_code == 405


def test_the_entry_page_runs_a_bounded_number_of_queries(
    congregation: Congregation,
    crew: Crew,
    facilitator: Self,
    member: Self,
    django_assert_max_num_queries: Any,
) -> None:
    deduction = missed(crew, member)
    client = signed_in(facilitator)

    with django_assert_max_num_queries(10):
        client.get(congregation_url("reciprocity:entry", congregation, pk=deduction.pk))


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("She was\nthere", "Keep this on one line"),
        # PostgreSQL refuses a NUL: it used to escape as a DataError.
        ("She was\x00there", "Keep this on one line"),
        ("w" * (CORRECTION_REASON_LENGTH + 1), f"at most {CORRECTION_REASON_LENGTH} characters"),
    ],
)
def test_reverse_entry_refuses_a_reason_the_form_would_refuse(
    facilitators_crew: Crew,
    facilitator: Self,
    second_facilitator: Self,
    reason: str,
    message: str,
) -> None:
    own = missed(facilitators_crew, facilitator)

    with refused(message):
        reverse_entry(entry=own, reversed_by=second_facilitator, reason=reason)


def test_a_correction_keeps_its_whole_reason_however_long_the_entry_it_names(
    congregation: Congregation, facilitator: Self, second_facilitator: Self
) -> None:
    """The ledger's reason used to be cut at its column's length, losing the why."""
    people = [MembershipFactory.create(congregation=congregation).member for _ in range(2)]
    crew = form_crew(
        congregation=congregation,
        name="c" * CREW_NAME_LENGTH,
        members=[facilitator, *people],
        now=timezone.now() - timedelta(days=30),
    )
    entry = missed(crew, facilitator)
    why = "w" * CORRECTION_REASON_LENGTH

    correction = reverse_entry(entry=entry, reversed_by=second_facilitator, reason=why)

    assert correction.reason.startswith(
        f"Reversed {facilitator.display_name}’s −5 for “Missed the meeting: ccc"
    )
    assert correction.reason.endswith(f"…”: {why}")
    assert len(correction.reason) == REASON_LENGTH
