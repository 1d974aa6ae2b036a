"""Disputes tried as users and attackers would: someone else's −5, another congregation,
a facilitator's correction crossing a dispute, hostile names, people who leave and come
back, and the totals a person expects after all of it."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from congregations.models import Congregation, Email, Membership, Notification, Self
from congregations.tenancy import tenant
from crews.models import Crew
from crews.services import leave_crew
from reciprocity.models import Dispute, LedgerEntry
from reciprocity.rules import REASON_LENGTH, Rule
from reciprocity.selectors import crew_scores, member_score
from reciprocity.selectors.waiting import waiting_for
from reciprocity.services import (
    confirm_dispute,
    dispute_deduction,
    reverse_entry,
    settle_missed_meetings,
)
from tests.builders import (
    GRACE,
    HOUR,
    congregation_url,
    join,
    ledger,
    refused,
    scheduled_meeting,
    signed_in,
    writes_nothing,
)
from tests.pages import text
from tests.reciprocity.test_views_disputes import CONFIRM, I_WAS_THERE, WAITING, missed_meeting

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


@pytest.fixture
def missed(crew: Crew, member: Self, crew_mate: Self, third: Self) -> LedgerEntry:
    """The member's −5, written an hour ago, for a meeting the other two were at."""
    return missed_meeting(crew, [crew_mate, third], member, timezone.now() - GRACE)


@pytest.fixture
def dispute(missed: LedgerEntry, member: Self) -> Dispute:
    return dispute_deduction(entry=missed, disputed_by=member)


def url(name: str, congregation: Congregation, pk: int) -> str:
    return congregation_url(f"reciprocity:{name}", congregation, pk=pk)


def kinds_waiting(self_: Self, congregation: Congregation) -> list[str]:
    with tenant(congregation):
        membership = Membership.objects.get(congregation=congregation, member=self_)
        return [
            item.kind
            for item in waiting_for(self_=self_, membership=membership, now=timezone.now())
        ]


def test_a_crew_mate_cannot_dispute_someone_elses_deduction_by_its_address(
    congregation: Congregation, crew_mate: Self, missed: LedgerEntry
) -> None:
    answer = signed_in(crew_mate).post(url("dispute_deduction", congregation, missed.pk))
    assert answer.status_code in (302, 404)
    with tenant(congregation):
        assert not Dispute.objects.exists()


def test_another_congregations_member_finds_no_dispute(
    congregation: Congregation, outsider: Self, dispute: Dispute
) -> None:
    stranger = signed_in(outsider)
    with writes_nothing():
        assert stranger.get(url("dispute", congregation, dispute.pk)).status_code == 404
        assert stranger.post(url("confirm_dispute", congregation, dispute.pk)).status_code == 404
        assert (
            stranger.post(url("dispute_deduction", congregation, dispute.entry_id)).status_code
            == 404
        )


def test_a_crew_mate_marked_absent_too_cannot_confirm(
    crew: Crew, member: Self, crew_mate: Self, third: Self
) -> None:
    missed = missed_meeting(crew, [third], member, timezone.now() - GRACE)
    dispute = dispute_deduction(entry=missed, disputed_by=member)
    with refused("Only a crew-mate marked present"):
        confirm_dispute(dispute=dispute, confirmed_by=crew_mate)


def test_a_facilitators_correction_leaves_no_dispute_waiting_for_anyone(
    congregation: Congregation,
    crew: Crew,
    member: Self,
    crew_mate: Self,
    facilitator: Self,
    dispute: Dispute,
) -> None:
    reverse_entry(entry=dispute.entry, reversed_by=facilitator, reason="She was there")

    # The crew-mates are no longer asked to confirm what is settled already.
    assert "dispute" not in kinds_waiting(crew_mate, congregation)
    with tenant(crew):
        asked = Notification.objects.filter(about=f"dispute:{dispute.pk}", read_at=None)
        assert not asked.exists()
    page = text(signed_in(crew_mate).get(url("dispute", congregation, dispute.pk)))
    assert CONFIRM not in page
    mine = text(signed_in(member).get(congregation_url("reciprocity:me", congregation)))
    assert WAITING not in mine


def test_a_confirmed_dispute_cannot_be_corrected_again_by_a_facilitator(
    crew: Crew, member: Self, crew_mate: Self, facilitator: Self, dispute: Dispute
) -> None:
    reversal = confirm_dispute(dispute=dispute, confirmed_by=crew_mate)
    with refused("This entry has been corrected already."):
        reverse_entry(entry=dispute.entry, reversed_by=facilitator, reason="Again")
    with refused("A correction cannot itself be reversed."):
        reverse_entry(entry=reversal, reversed_by=facilitator, reason="Again")
    with tenant(crew):
        assert member_score(self_=member, congregation=crew.congregation) == 0
        assert crew_scores(crew=crew)[member.pk] == 0


def test_two_crew_mates_confirming_one_after_the_other_give_5_back_once(
    crew: Crew, member: Self, crew_mate: Self, third: Self, dispute: Dispute
) -> None:
    confirm_dispute(dispute=dispute, confirmed_by=third)
    with refused("confirmed this already"):
        confirm_dispute(dispute=dispute, confirmed_by=crew_mate)
    assert ledger(member=member, rule=Rule.REVERSAL) == [(member.pk, "reversal", 5)]


def test_the_reversal_of_crew_mates_with_long_hostile_names_fits_and_keeps_both(
    crew: Crew, member: Self, crew_mate: Self, missed: LedgerEntry
) -> None:
    member.display_name = "<script>alert(1)</script>" + "M" * 74
    crew_mate.display_name = "<b>Bold</b> & “quoted”" + "C" * 78
    member.save()
    crew_mate.save()
    dispute = dispute_deduction(entry=missed, disputed_by=member)

    reversal = confirm_dispute(dispute=dispute, confirmed_by=crew_mate)

    assert len(reversal.reason) <= REASON_LENGTH
    assert member.display_name in reversal.reason and crew_mate.display_name in reversal.reason
    page = signed_in(crew_mate).get(url("dispute", crew.congregation, dispute.pk)).content
    assert b"<script>alert(1)" not in page


def test_a_witness_who_left_and_came_back_still_confirms(
    crew: Crew, member: Self, crew_mate: Self, third: Self, dispute: Dispute
) -> None:
    leave_crew(crew=crew, member=third)
    join(crew, third, invited_by=crew_mate, at=timezone.now())

    confirm_dispute(dispute=dispute, confirmed_by=third)

    with tenant(crew):
        assert member_score(self_=member, congregation=crew.congregation) == 0


def test_the_only_witness_leaving_withdraws_the_dispute_and_nobody_waits(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, third: Self
) -> None:
    missed = missed_meeting(crew, [third], member, timezone.now() - GRACE)
    dispute = dispute_deduction(entry=missed, disputed_by=member)

    leave_crew(crew=crew, member=third)

    with tenant(crew):
        dispute.refresh_from_db()
    assert dispute.withdrawn_at is not None
    assert "dispute" not in kinds_waiting(crew_mate, congregation)
    with refused("This dispute no longer waits for anyone"):
        confirm_dispute(dispute=dispute, confirmed_by=third)


def test_no_i_was_there_for_a_meeting_nobody_logged(
    congregation: Congregation, crew: Crew, member: Self, t0: datetime
) -> None:
    """Nobody was marked present, so nobody can confirm: the page does not offer what the
    service refuses, and nothing waits for the member to do it."""
    meeting = scheduled_meeting(crew, timezone.now() - GRACE - 2 * HOUR)
    settle_missed_meetings(now=timezone.now())
    with tenant(crew):
        missed = LedgerEntry.objects.get(meeting=meeting, member=member, rule=Rule.MISSED)

    mine = signed_in(member)
    assert I_WAS_THERE not in text(mine.get(url("entry", congregation, missed.pk)))
    assert I_WAS_THERE not in text(mine.get(congregation_url("reciprocity:me", congregation)))
    assert "deduction" not in kinds_waiting(member, congregation)


def test_the_email_for_a_meeting_nobody_logged_does_not_promise_a_crew_mate(
    crew: Crew, member: Self
) -> None:
    meeting = scheduled_meeting(crew, timezone.now() - GRACE - 2 * HOUR)
    settle_missed_meetings(now=timezone.now())
    with tenant(crew):
        missed = LedgerEntry.objects.get(meeting=meeting, member=member, rule=Rule.MISSED)
        [email] = Email.objects.filter(recipient=member)
        told = Notification.objects.get(about=f"deduction:{missed.pk}")

    for words in (email.body, told.text):
        assert "I was there" not in words and "crew-mate who was there" not in words
        assert "ask a facilitator" in words


def test_a_disputer_who_left_and_came_back_is_told_why_and_what_is_left_to_do(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, dispute: Dispute
) -> None:
    leave_crew(crew=crew, member=member)
    join(crew, member, invited_by=crew_mate, at=timezone.now())

    page = text(signed_in(member).get(url("entry", congregation, dispute.entry_id)))
    # Both who were there are still in the crew: the dispute went because its member left.
    assert "nobody who was there is left" not in page
    assert "ask a facilitator to correct it" in page
    with refused("You have said you were there already."):
        dispute_deduction(entry=dispute.entry, disputed_by=member)


def test_no_i_was_there_once_everyone_who_was_there_has_left_the_crew(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, third: Self
) -> None:
    """Only someone marked present and still in the crew can confirm: with them gone,
    neither my page nor what waits for the member offers a dispute nobody could confirm,
    while a crew-mate who stayed keeps it open."""
    missed = missed_meeting(crew, [third], member, timezone.now() - GRACE)
    mine = signed_in(member)
    assert I_WAS_THERE in text(mine.get(congregation_url("reciprocity:me", congregation)))
    assert "deduction" in kinds_waiting(member, congregation)

    leave_crew(crew=crew, member=third)

    assert I_WAS_THERE not in text(mine.get(congregation_url("reciprocity:me", congregation)))
    assert I_WAS_THERE not in text(mine.get(url("entry", congregation, missed.pk)))
    assert "deduction" not in kinds_waiting(member, congregation)


def test_a_deduction_waits_until_it_is_disputed_or_corrected(
    crew: Crew, member: Self, crew_mate: Self, facilitator: Self, third: Self
) -> None:
    """What waits for the member is each −5 neither disputed nor reversed (each checked
    row by row): saying "I was there" for one, and a facilitator's correction of the
    other, leave nothing of them waiting."""
    congregation = crew.congregation
    now = timezone.now()
    first = missed_meeting(crew, [crew_mate, third], member, now - GRACE)
    second = missed_meeting(crew, [crew_mate, third], member, now - GRACE - HOUR)
    assert kinds_waiting(member, congregation).count("deduction") == 2

    dispute_deduction(entry=first, disputed_by=member)
    assert kinds_waiting(member, congregation).count("deduction") == 1

    reverse_entry(entry=second, reversed_by=facilitator, reason="She was there")
    assert "deduction" not in kinds_waiting(member, congregation)
