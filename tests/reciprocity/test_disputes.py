"""Disputes instead of dead ends: a member marked absent says they were there, a crew-mate
marked present confirms, and the −5 is reversed by one entry naming both. No facilitator,
and nobody confirms their own."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from congregations.models import Ask, Email, EmailOptOut, Notification, Self
from congregations.tenancy import tenant
from crews.models import Crew, Meeting
from reciprocity.models import Dispute, LedgerEntry
from reciprocity.rules import DISPUTE_WITHIN, Rule
from reciprocity.services import (
    apply_missed_meeting_deductions,
    confirm_dispute,
    dispute_deduction,
    reverse_entry,
    settle_missed_meetings,
)
from reciprocity.services.notices import queue_missed_meeting_emails
from tests.builders import (
    DAY,
    GRACE,
    HOUR,
    held_meeting,
    ledger,
    refused,
    scheduled_meeting,
    total,
)

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def settled(meeting: Meeting, member: Self) -> LedgerEntry:
    """The missed-meeting job has run past the grace period: ``member``'s −5 for it."""
    settle_missed_meetings(now=meeting.starts_at + GRACE + HOUR)
    with tenant(meeting):
        return LedgerEntry.objects.get(meeting=meeting, member=member, rule=Rule.MISSED)


@pytest.fixture
def meeting(crew: Crew, crew_mate: Self, third: Self, t0: datetime) -> Meeting:
    """Logged at ``t0`` with the crew-mate and the third there, the member not marked."""
    return held_meeting(crew, [crew_mate, third], t0)


@pytest.fixture
def missed(meeting: Meeting, member: Self) -> LedgerEntry:
    return settled(meeting, member)


@pytest.fixture
def at(missed: LedgerEntry) -> datetime:
    """A moment after the deduction, well within the time to dispute it."""
    return missed.recorded_at + HOUR


@pytest.fixture
def dispute(missed: LedgerEntry, member: Self, at: datetime) -> Dispute:
    return dispute_deduction(entry=missed, disputed_by=member, now=at)


def notifications(crew: Crew, about: str) -> list[tuple[int, str, str, bool]]:
    """(recipient id, what it asks, its page, whether it is unread) of each notification."""
    with tenant(crew):
        found = Notification.objects.filter(about=about)
        return sorted((n.recipient_id, n.ask, n.path, n.read_at is None) for n in found)


def emails_to(crew: Crew, self_: Self) -> list[Email]:
    with tenant(crew):
        return list(Email.objects.filter(recipient=self_))


def test_a_crew_mate_who_was_there_confirms_and_one_reversal_names_both(
    crew: Crew, member: Self, crew_mate: Self, missed: LedgerEntry, dispute: Dispute, at: datetime
) -> None:
    assert total(member, crew=crew) == -5

    reversal = confirm_dispute(dispute=dispute, confirmed_by=crew_mate, now=at + HOUR)

    assert ledger(member=member, rule=Rule.REVERSAL) == [(member.pk, "reversal", 5)]
    assert reversal.reverses_id == missed.pk
    assert reversal.recorded_by_id == crew_mate.pk
    assert missed.reason in reversal.reason
    assert member.display_name in reversal.reason
    assert crew_mate.display_name in reversal.reason
    assert total(member, crew=crew) == 0  # the −5 and its reversal: nothing for that meeting
    with tenant(crew):
        dispute.refresh_from_db()
    assert (dispute.confirmed_by_id, dispute.confirmed_at, dispute.reversal_id) == (
        crew_mate.pk,
        at + HOUR,
        reversal.pk,
    )


def test_once_confirmed_the_crew_mates_are_asked_no_more_and_the_disputer_is_told(
    crew: Crew, member: Self, crew_mate: Self, third: Self, dispute: Dispute, at: datetime
) -> None:
    confirm_dispute(dispute=dispute, confirmed_by=crew_mate, now=at + HOUR)

    path = reverse(
        "reciprocity:dispute",
        kwargs={"congregation_slug": crew.congregation.slug, "pk": dispute.pk},
    )
    about = f"dispute:{dispute.pk}"
    assert notifications(crew, about) == sorted(
        [
            (crew_mate.pk, Ask.DISPUTE, path, False),
            (third.pk, Ask.DISPUTE, path, False),
            (member.pk, "", path, True),
        ]
    )
    with tenant(crew):
        news = Notification.objects.get(about=about, recipient=member)
    assert news.text.startswith(f"{crew_mate.display_name} confirmed you were at Tuesday crew, ")
    assert news.text.endswith(": your −5 is reversed.")


def test_the_disputer_cannot_confirm_their_own(
    member: Self, dispute: Dispute, at: datetime
) -> None:
    with refused("Nobody confirms their own dispute"):
        confirm_dispute(dispute=dispute, confirmed_by=member, now=at + HOUR)


def test_someone_not_marked_present_cannot_confirm(
    neighbour: Self, facilitator: Self, dispute: Dispute, at: datetime
) -> None:
    for someone in (neighbour, facilitator):
        with refused("Only a crew-mate marked present at that meeting"):
            confirm_dispute(dispute=dispute, confirmed_by=someone, now=at + HOUR)


def test_a_second_confirmation_is_refused(
    member: Self, crew_mate: Self, third: Self, dispute: Dispute, at: datetime
) -> None:
    confirm_dispute(dispute=dispute, confirmed_by=crew_mate, now=at + HOUR)

    for again in (third, crew_mate):
        with refused("A crew-mate has confirmed this already"):
            confirm_dispute(dispute=dispute, confirmed_by=again, now=at + 2 * HOUR)
    assert ledger(member=member, rule=Rule.REVERSAL) == [(member.pk, "reversal", 5)]


def test_a_facilitator_correction_and_a_dispute_give_the_points_back_once(
    member: Self, crew_mate: Self, facilitator: Self, dispute: Dispute, at: datetime
) -> None:
    reverse_entry(entry=dispute.entry, reversed_by=facilitator, reason="Was there", now=at)

    with refused("This dispute no longer waits for anyone"):
        confirm_dispute(dispute=dispute, confirmed_by=crew_mate, now=at + HOUR)
    assert ledger(member=member, rule=Rule.REVERSAL) == [(member.pk, "reversal", 5)]


def test_only_the_member_who_lost_the_points_disputes_them(
    crew_mate: Self, facilitator: Self, missed: LedgerEntry, at: datetime
) -> None:
    for someone in (crew_mate, facilitator):
        with refused("Only the member who lost these points can say they were there."):
            dispute_deduction(entry=missed, disputed_by=someone, now=at)


def test_only_a_missed_meeting_deduction_is_disputed(
    crew: Crew, crew_mate: Self, meeting: Meeting, missed: LedgerEntry, at: datetime
) -> None:
    with tenant(crew):
        attended = LedgerEntry.objects.get(meeting=meeting, member=crew_mate)

    with refused("Only a deduction for a missed meeting can be disputed."):
        dispute_deduction(entry=attended, disputed_by=crew_mate, now=at)


def test_a_deduction_is_disputed_once(member: Self, dispute: Dispute, at: datetime) -> None:
    with refused("You have said you were there already."):
        dispute_deduction(entry=dispute.entry, disputed_by=member, now=at + HOUR)


def test_a_deduction_older_than_the_time_to_dispute_it_is_not_disputed(
    member: Self, missed: LedgerEntry
) -> None:
    too_late = missed.recorded_at + DISPUTE_WITHIN + timedelta(seconds=1)

    with refused(f"can be disputed for {DISPUTE_WITHIN.days} days after it was written"):
        dispute_deduction(entry=missed, disputed_by=member, now=too_late)
    dispute_deduction(entry=missed, disputed_by=member, now=missed.recorded_at + DISPUTE_WITHIN)


def test_a_deduction_a_facilitator_corrected_is_not_disputed(
    crew: Crew, member: Self, facilitator: Self, missed: LedgerEntry, at: datetime
) -> None:
    reverse_entry(entry=missed, reversed_by=facilitator, reason="Was there", now=at)

    assert [unread for *_, unread in notifications(crew, f"deduction:{missed.pk}")] == [False]

    with refused("These points have been given back already"):
        dispute_deduction(entry=missed, disputed_by=member, now=at + HOUR)


def test_a_meeting_nobody_was_marked_present_at_leaves_nobody_to_ask(
    crew: Crew, member: Self, t0: datetime
) -> None:
    missed = settled(scheduled_meeting(crew, t0), member)

    with refused("Nobody still in the crew was marked present at that meeting"):
        dispute_deduction(entry=missed, disputed_by=member, now=missed.recorded_at + HOUR)


def test_each_crew_mate_who_was_there_is_asked_once_and_the_disputer_is_not_emailed(
    crew: Crew, member: Self, crew_mate: Self, third: Self, missed: LedgerEntry, at: datetime
) -> None:
    before = len(emails_to(crew, member))  # the deduction's own email
    dispute = dispute_deduction(entry=missed, disputed_by=member, now=at)
    for _ in range(2):
        with pytest.raises(Exception, match="already"):
            dispute_deduction(entry=missed, disputed_by=member, now=at + HOUR)
        settle_missed_meetings(now=at + HOUR)

    path = reverse(
        "reciprocity:dispute",
        kwargs={"congregation_slug": crew.congregation.slug, "pk": dispute.pk},
    )
    assert notifications(crew, f"dispute:{dispute.pk}") == sorted(
        [(crew_mate.pk, Ask.DISPUTE, path, True), (third.pk, Ask.DISPUTE, path, True)]
    )
    for witness in (crew_mate, third):
        [email] = emails_to(crew, witness)
        assert email.subject == f"Was {member.display_name} at {missed.reason.split(': ')[1]}?"
        assert f"{member.display_name} says they were at the Tuesday crew meeting of " in email.body
        assert path in email.body
    assert len(emails_to(crew, member)) == before


def test_disputing_marks_the_deduction_done_for_the_disputer(
    crew: Crew, member: Self, missed: LedgerEntry, dispute: Dispute
) -> None:
    [(_, ask, _, unread)] = notifications(crew, f"deduction:{missed.pk}")
    assert (ask, unread) == (Ask.DEDUCTION, False)


# The deduction's own notification and email, written by the missed-meeting job.


def test_each_deduction_is_one_notification_and_one_email_that_says_how_to_dispute_it(
    crew: Crew, member: Self, meeting: Meeting
) -> None:
    missed = settled(meeting, member)
    settle_missed_meetings(now=meeting.starts_at + GRACE + 2 * HOUR)

    path = reverse(
        "reciprocity:entry", kwargs={"congregation_slug": crew.congregation.slug, "pk": missed.pk}
    )
    assert notifications(crew, f"deduction:{missed.pk}") == [(member.pk, Ask.DEDUCTION, path, True)]
    with tenant(crew):
        assert Notification.objects.get(about=f"deduction:{missed.pk}").emailed_at is not None
    [email] = emails_to(crew, member)
    assert f'If you were there, press "I was there" on {settings.SITE_URL}{path}' in email.body
    assert "A crew-mate who was there confirms, and the 5 points come back." in email.body
    assert "No facilitator needed." in email.body


def test_a_member_who_turned_deduction_emails_off_gets_the_notification_only(
    crew: Crew, member: Self, meeting: Meeting
) -> None:
    EmailOptOut.objects.create(owner=member, ask=Ask.DEDUCTION)

    missed = settled(meeting, member)

    assert [unread for *_, unread in notifications(crew, f"deduction:{missed.pk}")] == [True]
    with tenant(crew):
        assert Notification.objects.get(about=f"deduction:{missed.pk}").emailed_at is None
    assert emails_to(crew, member) == []


def queries_to_tell(now: datetime) -> int:
    with CaptureQueriesContext(connection) as captured:
        queue_missed_meeting_emails(now=now)
    return len(captured.captured_queries)


def test_telling_of_nine_deductions_takes_as_many_queries_as_telling_of_one(
    crew: Crew, member: Self, meeting: Meeting, t0: datetime
) -> None:
    apply_missed_meeting_deductions(now=t0 + GRACE)
    one = queries_to_tell(t0 + GRACE)
    for day in (1, 2, 3):
        scheduled_meeting(crew, t0 + day * DAY)  # nobody logged them: missed by all three
    apply_missed_meeting_deductions(now=t0 + 3 * DAY + GRACE + HOUR)

    assert queries_to_tell(t0 + 3 * DAY + GRACE + HOUR) == one
    with tenant(crew):
        assert Notification.objects.filter(ask=Ask.DEDUCTION).count() == 1 + 9
        assert Email.objects.count() == 1 + 9
