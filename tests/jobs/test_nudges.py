"""One nudge to log a meeting before its grace period ends, one warning a week before a
conflict's deadline, one monthly-rhythm nudge to a crew with nothing scheduled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from congregations.models import Ask, Email, Notification, Self
from congregations.tenancy import tenant
from crews.models import Crew
from crews.services import log_meeting, schedule_meeting
from crews.services.reminders import nudge_quiet_crews, nudge_unlogged_meetings
from reciprocity.services import open_conflict
from reciprocity.services.notices import warn_conflicts_nearing_deadline
from tests.builders import congregation_url, people, scheduled_meeting

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_a_crew_is_nudged_once_to_log_a_meeting_half_way_through_the_grace_period(
    crew: Crew,
) -> None:
    now = timezone.now()
    meeting = scheduled_meeting(crew, now - timedelta(hours=10))
    assert nudge_unlogged_meetings(now=now) == 0
    assert nudge_unlogged_meetings(now=now + timedelta(hours=15)) == 3
    assert nudge_unlogged_meetings(now=now + timedelta(hours=16)) == 0
    with tenant(crew):
        subject = Email.objects.values_list("subject", flat=True).first()
        meeting.refresh_from_db()
    assert subject is not None and subject.startswith(f"Did {crew.name} meet? Log it by")
    assert meeting.log_nudge_sent_at is not None


def test_the_nudge_waits_for_each_member_with_the_meeting_s_page_emailed_once(
    crew: Crew, member: Self
) -> None:
    now = timezone.now()
    meeting = scheduled_meeting(crew, now - timedelta(hours=30))
    path = congregation_url("crews:meeting", crew.congregation, pk=meeting.pk)

    assert nudge_unlogged_meetings(now=now) == 3
    assert nudge_unlogged_meetings(now=now + timedelta(hours=1)) == 0

    with tenant(crew):
        told = list(
            Notification.objects.exclude(ask="").values_list("recipient", "ask", "about", "path")
        )
        emails = list(Email.objects.values_list("recipient", "body"))
    about = f"meeting-to-log:{meeting.pk}"
    assert sorted(told) == sorted((p.pk, Ask.MEETING_TO_LOG, about, path) for p in people(crew))
    assert sorted(r for r, _ in emails) == sorted(p.pk for p in people(crew))
    assert all(path in body for _, body in emails)

    log_meeting(meeting=meeting, present=people(crew), logged_by=member, now=now)
    with tenant(crew):
        asking = Notification.objects.filter(about__startswith="meeting-to-log")
        assert not asking.filter(read_at__isnull=True).exists()


def test_parties_are_warned_once_a_week_before_the_deadline(
    crew: Crew, member: Self, crew_mate: Self
) -> None:
    now = timezone.now()
    conflict = open_conflict(crew=crew, parties=[member, crew_mate], opened_by=member, now=now)
    assert warn_conflicts_nearing_deadline(now=now + timedelta(days=22)) == 0
    assert warn_conflicts_nearing_deadline(now=now + timedelta(days=23, minutes=1)) == 2
    assert warn_conflicts_nearing_deadline(now=now + timedelta(days=24)) == 0
    with tenant(crew):
        recipients = set(Email.objects.values_list("recipient", flat=True))
        body = Email.objects.get(recipient=member).body
    assert recipients == {member.pk, crew_mate.pk}
    # On the member's clock: an hour before midnight in UTC it is already the next day.
    assert conflict.deadline_at.astimezone(member.timezone).strftime("%-d %B") in body


def test_a_crew_with_nothing_scheduled_is_nudged_once_a_month(crew: Crew, member: Self) -> None:
    january = datetime(2027, 1, 3, 12, tzinfo=UTC)
    assert nudge_quiet_crews(now=january) == 3
    assert nudge_quiet_crews(now=january + timedelta(days=1)) == 0

    february = january + timedelta(days=31)
    schedule_meeting(
        crew=crew, starts_at=february + timedelta(days=20), scheduled_by=member, now=january
    )
    assert nudge_quiet_crews(now=february) == 0

    march = february + timedelta(days=28)
    assert nudge_quiet_crews(now=march) == 3
