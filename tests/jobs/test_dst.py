"""Reminders go out at the right moment and say the right local time across the
daylight-saving changes of Europe/Amsterdam and Pacific/Auckland."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from congregations.models import Self
from congregations.services import update_profile
from congregations.services.outbox import send_due_emails
from congregations.tenancy import tenant
from crews.models import Crew, MeetingReminder
from crews.services import schedule_meeting
from crews.tasks import send_meeting_reminders

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

AMSTERDAM, AUCKLAND = ZoneInfo("Europe/Amsterdam"), ZoneInfo("Pacific/Auckland")


@pytest.mark.parametrize(
    ("zone", "scheduled_on", "meets_at", "reminded_at_utc"),
    [
        # Amsterdam leaves summer time on 25 October 2026 (03:00 CEST → 02:00 CET).
        (AMSTERDAM, datetime(2026, 10, 20, 12), datetime(2026, 10, 26, 19, 0), "2026-10-25 18:00"),
        # Amsterdam enters summer time on 28 March 2027 (02:00 CET → 03:00 CEST).
        (AMSTERDAM, datetime(2027, 3, 20, 12), datetime(2027, 3, 28, 19, 0), "2027-03-27 18:00"),
        # Auckland enters summer time on 27 September 2026 (02:00 NZST → 03:00 NZDT).
        (AUCKLAND, datetime(2026, 9, 20, 12), datetime(2026, 9, 27, 18, 30), "2026-09-26 06:30"),
        # Auckland leaves summer time on 4 April 2027 (03:00 NZDT → 02:00 NZST).
        (AUCKLAND, datetime(2027, 3, 30, 12), datetime(2027, 4, 4, 18, 30), "2027-04-03 05:30"),
    ],
)
def test_the_reminder_comes_at_the_same_local_time_the_day_before(
    crew: Crew,
    member: Self,
    zone: ZoneInfo,
    scheduled_on: datetime,
    meets_at: datetime,
    reminded_at_utc: str,
) -> None:
    with tenant(crew):
        crew.timezone = zone
        crew.save(update_fields=["timezone"])
    update_profile(self_=member, timezone=zone)
    starts = meets_at.replace(tzinfo=zone)
    with time_machine.travel(scheduled_on.replace(tzinfo=zone), tick=False):
        schedule_meeting(crew=crew, starts_at=starts, scheduled_by=member)

    with tenant(crew):
        due = MeetingReminder.objects.get().due_at
    assert f"{due.astimezone(ZoneInfo('UTC')):%Y-%m-%d %H:%M}" == reminded_at_utc
    reminded = due.astimezone(zone)
    assert (reminded.date(), reminded.time()) == (
        (meets_at - timedelta(days=1)).date(),
        meets_at.time(),
    )

    with time_machine.travel(due - timedelta(minutes=1), tick=False):
        send_meeting_reminders()
    assert mail.outbox == []
    with time_machine.travel(due + timedelta(seconds=30), tick=False):
        send_meeting_reminders()
        send_due_emails()

    body = next(m.body for m in mail.outbox if m.to == [member.email])
    assert f"{meets_at:%Y}, {meets_at:%H:%M} {meets_at:%Z}" in body  # the zone named
    assert f"{meets_at:%A} {meets_at.day} {meets_at:%B %Y}" in body
