"""Every periodic job, run once, does the work of every congregation: the claim steps go
through the door, and each item is processed behind its own congregation's walls."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core import mail

from congregations.models import Congregation, Email
from congregations.services import invite
from congregations.services.outbox import send_due_emails
from congregations.tenancy import across_congregations
from crews.models import Crew, Meeting, MeetingReminder
from crews.services import form_crew, nudge_unlogged_meetings, send_due_reminders
from reciprocity.models import Conflict, ConflictStatus, LedgerEntry
from reciprocity.rules import Rule
from reciprocity.services import mind_conflict_deadlines, settle_missed_meetings

from .builders import DAY, HOUR, conflict, people, scheduled_meeting
from .factories import CongregationFactory, MembershipFactory


def a_crew_of(congregation: Congregation, now: datetime) -> Crew:
    members = [MembershipFactory.create(congregation=congregation).member for _ in range(3)]
    return form_crew(congregation=congregation, name="Crew", members=members, now=now - 90 * DAY)


@pytest.fixture
def crews(db: None, now: datetime) -> list[Crew]:
    return [a_crew_of(CongregationFactory.create(), now) for _ in range(3)]


def per_congregation(rows: list[int]) -> dict[int, int]:
    counted: dict[int, int] = {}
    for congregation_id in rows:
        counted[congregation_id] = counted.get(congregation_id, 0) + 1
    return counted


def test_the_missed_meeting_job_settles_every_congregation_s_meetings(
    crews: list[Crew], now: datetime
) -> None:
    missed = [scheduled_meeting(crew, now - 3 * DAY) for crew in crews]
    assert settle_missed_meetings(now=now) == 9
    with across_congregations():
        deducted = LedgerEntry.objects.filter(rule=Rule.MISSED).values_list(
            "congregation_id", flat=True
        )
        assert per_congregation(list(deducted)) == {crew.congregation_id: 3 for crew in crews}
        settled = Meeting.objects.filter(pk__in=[m.pk for m in missed])
        assert all(meeting.deductions_applied_at for meeting in settled)


def test_reminders_nudges_and_the_outbox_reach_every_congregation(
    crews: list[Crew], now: datetime
) -> None:
    for crew in crews:
        scheduled_meeting(crew, now + 12 * HOUR)  # its reminder is due
        scheduled_meeting(crew, now - 30 * HOUR)  # half its grace gone, not logged
    assert send_due_reminders(now=now) == 9
    assert nudge_unlogged_meetings(now=now) == 9
    sent = send_due_emails(now=now + timedelta(minutes=1))
    assert sent == 18
    with across_congregations():
        assert not MeetingReminder.objects.filter(sent_at__isnull=True, due_at__lte=now).exists()
        outbox = Email.objects.values_list("congregation_id", flat=True)
        assert per_congregation(list(outbox)) == {crew.congregation_id: 6 for crew in crews}
    assert {message.to[0] for message in mail.outbox} == {
        person.email for crew in crews for person in people(crew)
    }


def test_the_deadline_job_closes_every_congregation_s_overdue_conflicts(
    crews: list[Crew], now: datetime
) -> None:
    for crew in crews:
        first, second, _ = people(crew)
        conflict(crew, first, second)
    assert mind_conflict_deadlines(now=now + 31 * DAY) == 6
    with across_congregations():
        assert set(Conflict.objects.values_list("status", flat=True)) == {ConflictStatus.EXPIRED}


def test_an_invitation_email_of_each_congregation_goes_out_in_one_run(
    crews: list[Crew], now: datetime
) -> None:
    for crew in crews:
        inviter = people(crew)[0]
        invite(
            congregation=crew.congregation, email=f"new-{crew.pk}@example.net", invited_by=inviter
        )
    assert send_due_emails(now=now + timedelta(minutes=1)) == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"new-{c.pk}@example.net" for c in crews)
