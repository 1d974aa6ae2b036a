"""Meeting reminders: sent once, re-armed by rescheduling, replaced by a notice when the
meeting is cancelled. The worker tests run a real Celery worker on Redis."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from celery.signals import task_postrun
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from congregations.models import Email, Self
from congregations.services import update_profile
from congregations.services.outbox import send_due_emails
from congregations.tenancy import tenant
from crews.models import Crew, MeetingReminder
from crews.services import cancel_meeting, reschedule_meeting, schedule_meeting
from crews.services.reminders import send_due_reminders
from crews.tasks import send_meeting_reminders

from ..waiting import wait_for

pytestmark = pytest.mark.django_db


def crew_addresses(crew: Crew) -> set[str]:
    with tenant(crew):
        return set(crew.memberships.values_list("member__email", flat=True))


@pytest.mark.embedded
def test_a_reminder_is_armed_the_lead_time_before_the_start(crew: Crew, member: Self) -> None:
    starts = timezone.now() + timedelta(days=5)
    meeting = schedule_meeting(crew=crew, starts_at=starts, scheduled_by=member)
    with tenant(meeting):
        reminder = MeetingReminder.objects.get(meeting=meeting)
    assert reminder.due_at == starts - timedelta(hours=24)
    assert send_due_reminders() == 0
    assert send_due_reminders(now=reminder.due_at + timedelta(minutes=1)) == 3


@pytest.mark.embedded
def test_a_meeting_sooner_than_the_lead_time_is_reminded_at_once(crew: Crew, member: Self) -> None:
    now = timezone.now()
    meeting = schedule_meeting(
        crew=crew, starts_at=now + timedelta(hours=3), scheduled_by=member, now=now
    )
    with tenant(meeting):
        assert MeetingReminder.objects.get(meeting=meeting).due_at == now
    assert send_due_reminders(now=now) == 3


@pytest.mark.embedded
def test_the_reminder_says_what_when_where_links_and_attaches_the_meeting(
    crew: Crew, member: Self
) -> None:
    update_profile(self_=member, timezone="Pacific/Auckland")
    starts = timezone.now().replace(microsecond=0) + timedelta(hours=6)
    meeting = schedule_meeting(
        crew=crew, starts_at=starts, scheduled_by=member, place="Ana's kitchen", agenda="Harvest"
    )
    send_due_reminders()
    send_due_emails()

    email = next(m for m in mail.outbox if m.to == [member.email])
    local = starts.astimezone(member.timezone)
    assert email.subject == (
        f"{crew.name} meets on {local:%A} {local.day} {local:%B} at {local:%H:%M} {local:%Z}"
    )
    assert f"{local:%Y}, {local:%H:%M} {local:%Z}" in email.body  # NZDT or NZST, named
    assert "Where: Ana's kitchen" in email.body
    assert f"/c/{crew.congregation.slug}/meetings/{meeting.pk}/" in email.body
    name, content, mimetype = email.attachments[0]
    assert (name, mimetype) == ("meeting.ics", "application/ics")
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == starts
    assert str(event["summary"]) == crew.name
    assert str(event["location"]) == "Ana's kitchen"


@pytest.mark.embedded
def test_members_who_turned_reminders_off_get_none(crew: Crew, member: Self) -> None:
    update_profile(self_=member, reminders_enabled=False)
    schedule_meeting(crew=crew, starts_at=timezone.now() + timedelta(hours=2), scheduled_by=member)
    send_due_reminders()
    with tenant(crew):
        assert not Email.objects.filter(recipient=member).exists()
        assert Email.objects.count() == 2


@pytest.mark.embedded
def test_rescheduling_re_arms_the_reminder_for_the_new_time(crew: Crew, member: Self) -> None:
    now = timezone.now()
    meeting = schedule_meeting(crew=crew, starts_at=now + timedelta(days=3), scheduled_by=member)
    later = now + timedelta(days=10)
    reschedule_meeting(meeting=meeting, changed_by=member, starts_at=later, version=1)

    assert send_due_reminders(now=now + timedelta(days=2, hours=1)) == 0
    assert send_due_reminders(now=later - timedelta(hours=23)) == 3
    with tenant(meeting):
        assert list(MeetingReminder.objects.values_list("starts_at", flat=True)) == [later]


@pytest.mark.embedded
def test_a_reminder_already_sent_is_sent_again_for_a_new_time(crew: Crew, member: Self) -> None:
    """After the move's own notice, at once, the reminder comes again before the new time."""
    now = timezone.now()
    meeting = schedule_meeting(
        crew=crew, starts_at=now + timedelta(hours=5), scheduled_by=member, now=now
    )
    assert send_due_reminders(now=now) == 3
    later = now + timedelta(days=3)
    reschedule_meeting(meeting=meeting, changed_by=member, starts_at=later, version=1, now=now)
    with tenant(meeting):
        assert Email.objects.filter(key__startswith=f"changed:{meeting.pk}:").count() == 3
    assert send_due_reminders(now=now) == 0
    assert send_due_reminders(now=later - timedelta(hours=23)) == 3
    with tenant(meeting):
        assert Email.objects.count() == 9


@pytest.mark.embedded
def test_a_move_told_at_once_needs_no_second_reminder_at_once(crew: Crew, member: Self) -> None:
    now = timezone.now()
    meeting = schedule_meeting(
        crew=crew, starts_at=now + timedelta(hours=5), scheduled_by=member, now=now
    )
    assert send_due_reminders(now=now) == 3
    reschedule_meeting(
        meeting=meeting, changed_by=member, starts_at=now + timedelta(hours=7), version=1, now=now
    )
    assert send_due_reminders(now=now) == 0
    with tenant(meeting):
        assert Email.objects.count() == 6
        assert Email.objects.filter(key__startswith=f"changed:{meeting.pk}:").count() == 3


@pytest.mark.embedded
def test_cancelling_sends_a_notice_instead_of_the_reminder(crew: Crew, member: Self) -> None:
    now = timezone.now()
    meeting = schedule_meeting(crew=crew, starts_at=now + timedelta(days=3), scheduled_by=member)
    cancel_meeting(meeting=meeting, cancelled_by=member)

    assert send_due_reminders(now=now + timedelta(days=2, hours=1)) == 0
    with tenant(meeting):
        subjects = set(Email.objects.values_list("subject", flat=True))
    assert subjects == {f"Cancelled: {crew.name} meeting"}
    send_due_emails()
    assert {m.to[0] for m in mail.outbox} == crew_addresses(crew)
    assert "costs nobody any points" in mail.outbox[0].body


def test_a_real_worker_sends_a_reminder_once_however_often_the_task_runs(
    crew: Crew, member: Self, overlapping_worker: None
) -> None:
    finished: list[str] = []

    def note_finished(sender: Any = None, **kwargs: Any) -> None:
        if sender is not None and sender.name == send_meeting_reminders.name:
            finished.append(kwargs["task_id"])

    # The worker runs in this process, so its signal tells when each run is over.
    task_postrun.connect(note_finished, weak=False)
    try:
        schedule_meeting(
            crew=crew, starts_at=timezone.now() + timedelta(hours=2), scheduled_by=member
        )
        # (Scheduling may have started a run of its own as a head start: wait for ours.)
        ours = {send_meeting_reminders.delay().id for _ in range(4)}
        wait_for(lambda: ours <= set(finished), what="the four runs to finish")
    finally:
        task_postrun.disconnect(note_finished)

    # The runs queued the emails and started the outbox's task, which sends them.
    wait_for(lambda: len(mail.outbox) >= 3, what="the outbox to send the reminders")
    assert sorted(m.to[0] for m in mail.outbox) == sorted(crew_addresses(crew))
    with tenant(crew):
        assert Email.objects.count() == Email.objects.filter(sent_at__isnull=False).count() == 3
    # A run after all four have finished finds nothing left to send.
    assert send_meeting_reminders() == 0
    assert len(mail.outbox) == 3
