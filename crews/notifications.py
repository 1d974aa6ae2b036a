"""The emails a crew gets about its meetings: the reminder before, the notice when one is
cancelled, the nudge to log it, and the nudge to keep the monthly rhythm."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from congregations.models import Self
from congregations.outbox import Attachment, Outgoing, queue_emails

from .ical import meetings_calendar
from .links import crew_url, meeting_url
from .models import Crew, CrewMembership, Meeting, MeetingReminder, MeetingStatus
from .selectors import current_members

BATCH = 200
# The monthly rhythm: a crew with nothing scheduled this far ahead is nudged.
RHYTHM = timedelta(days=30)


def arm_reminder(meeting: Meeting, now: datetime) -> MeetingReminder:
    """(Re)arm the reminder for the meeting's current start; an unsent one for an earlier
    start is dropped. Due the congregation's lead time before, counted on the meeting's
    own clock, so a 19:00 meeting is reminded at 19:00 the day before even across a
    daylight-saving change; or now, if that has passed."""
    MeetingReminder.objects.filter(meeting=meeting, sent_at__isnull=True).delete()
    # Aware datetimes in one ZoneInfo subtract on the wall clock, not in elapsed time.
    due = meeting.starts_at.astimezone(meeting.timezone) - meeting.congregation.reminder_lead
    reminder, _ = MeetingReminder.objects.get_or_create(
        meeting=meeting,
        starts_at=meeting.starts_at,
        defaults={"congregation_id": meeting.congregation_id, "due_at": max(due, now)},
    )
    return reminder


def _ics(meeting: Meeting) -> Attachment:
    return Attachment(
        "meeting.ics",
        meetings_calendar([meeting], now=meeting.created_at, name=meeting.crew.name).decode(),
        "text/calendar",
    )


def _to_members(
    meeting: Meeting,
    key: str,
    subject: Callable[[Self], str],
    template: str,
    recipients: list[Self],
    attachment: Attachment | None = None,
    **context: object,
) -> list[Outgoing]:
    """One email per recipient about ``meeting``; ``key`` is made per recipient."""
    return [
        Outgoing(
            congregation_id=meeting.congregation_id,
            recipient=person,
            key=f"{key}:{person.pk}",
            subject=subject(person),
            template=template,
            context={
                "meeting": meeting,
                "crew": meeting.crew,
                "url": meeting_url(meeting),
                **context,
            },
            attachment=attachment,
        )
        for person in recipients
    ]


def queue_cancellation_notice(meeting: Meeting, now: datetime) -> int:
    """Called by cancel_meeting: drops the pending reminder and tells the crew."""
    MeetingReminder.objects.filter(meeting=meeting, sent_at__isnull=True).delete()
    members = list(current_members(crew=meeting.crew))
    return queue_emails(
        _to_members(
            meeting,
            f"cancelled:{meeting.pk}",
            lambda _: f"Cancelled: {meeting.crew.name} meeting",
            "crews/email/cancelled.txt",
            members,
        ),
        now=now,
    )


def send_due_reminders(*, now: datetime | None = None) -> int:
    """Queue the reminder emails of every due reminder, once; returns how many emails."""
    now = now or timezone.now()
    queued = 0
    while (batch := _remind_batch(now)) is not None:
        queued += batch
    return queued


@transaction.atomic
def _remind_batch(now: datetime) -> int | None:
    with scopes_disabled():
        reminders = list(
            MeetingReminder.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(sent_at__isnull=True, due_at__lte=now)
            .select_related("meeting__crew", "meeting__congregation")
            .order_by("due_at")[:BATCH]
        )
        if not reminders:
            return None
        outgoing = []
        for reminder in reminders:
            meeting = reminder.meeting
            still_on = (
                meeting.status == MeetingStatus.SCHEDULED
                and meeting.starts_at == reminder.starts_at
                and meeting.starts_at > now
            )
            if still_on:
                recipients = [m for m in current_members(crew=meeting.crew) if m.reminders_enabled]
                outgoing += _to_members(
                    meeting,
                    f"reminder:{meeting.pk}:{reminder.starts_at:%Y%m%dT%H%M%S}",
                    partial(_reminder_subject, meeting),
                    "crews/email/reminder.txt",
                    recipients,
                    attachment=_ics(meeting),
                )
        queued = queue_emails(outgoing, now=now)
        MeetingReminder.objects.filter(pk__in=[r.pk for r in reminders]).update(sent_at=now)
    return queued


def _reminder_subject(meeting: Meeting, person: Self) -> str:
    start = meeting.starts_at.astimezone(person.timezone)
    return f"{meeting.crew.name} meets on {start:%A} {start.day} {start:%B} at {start:%H:%M}"


def nudge_unlogged_meetings(*, now: datetime | None = None) -> int:
    """Once half the grace period has passed with a meeting not logged, ask its crew to
    log it before the missed-meeting deductions apply. Each meeting is nudged once."""
    now = now or timezone.now()
    queued = 0
    with scopes_disabled(), transaction.atomic():
        meetings = list(
            Meeting.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=MeetingStatus.SCHEDULED,
                log_nudge_sent_at__isnull=True,
                deductions_applied_at__isnull=True,
                starts_at__lte=now,
            )
            .select_related("crew", "congregation")[:BATCH]
        )
        due = [m for m in meetings if now >= m.starts_at + m.congregation.meeting_grace / 2]
        for meeting in due:
            if now >= meeting.log_closes_at():
                continue
            queued += queue_emails(
                _to_members(
                    meeting,
                    f"log-nudge:{meeting.pk}",
                    partial(_nudge_subject, meeting),
                    "crews/email/log_nudge.txt",
                    list(current_members(crew=meeting.crew)),
                    closes_at=meeting.log_closes_at(),
                ),
                now=now,
            )
        Meeting.objects.filter(pk__in=[m.pk for m in due]).update(log_nudge_sent_at=now)
    return queued


def _nudge_subject(meeting: Meeting, person: Self) -> str:
    closes = meeting.log_closes_at().astimezone(person.timezone)
    by = f"{closes:%A} {closes.day} {closes:%B}, {closes:%H:%M}"
    return f"Did {meeting.crew.name} meet? Log it by {by}"


def nudge_quiet_crews(*, now: datetime | None = None) -> int:
    """The monthly rhythm: one nudge a month to each formed crew or dyad that has no
    meeting scheduled in the coming month."""
    now = now or timezone.now()
    month = f"{now:%Y-%m}"
    with scopes_disabled():
        quiet = Crew.objects.formed().exclude(
            meetings__status=MeetingStatus.SCHEDULED,
            meetings__starts_at__gte=now,
            meetings__starts_at__lt=now + RHYTHM,
        )
        memberships = (
            CrewMembership.objects.current()
            .filter(crew__in=quiet)
            .select_related("crew__congregation", "member")
        )
        outgoing = [
            Outgoing(
                congregation_id=m.congregation_id,
                recipient=m.member,
                key=f"rhythm:{m.crew_id}:{month}:{m.member_id}",
                subject=f"When does {m.crew.name} meet next?",
                template="crews/email/rhythm_nudge.txt",
                context={"crew": m.crew, "url": crew_url(m.crew)},
            )
            for m in memberships
        ]
        return queue_emails(outgoing, now=now)
