"""The emails a crew gets about its meetings: the reminder before (armed when a meeting is
scheduled or moved, dropped when it is cancelled), the notice when one changes after its
reminder went out, the notice when one is cancelled, the nudge to log it, and the nudge to
keep the monthly rhythm. The emails about one meeting carry it as an iTIP message, so the
event a member's calendar took from the reminder follows every change. The periodic jobs run these
through the one claim–process–mark loop.

Each email is written in its recipient's language, whoever's act or job queues it: the
subjects are lazy (read by the outbox in that language), and the calendar attached is built
in it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from congregations import tasks as congregation_tasks
from congregations.models import Ask, Congregation, Self
from congregations.services.notifications import Notice, notify
from congregations.services.outbox import Attachment, Outgoing, queue_emails, withdraw_emails
from congregations.timezones import moment_in_lazy
from congregations.unsubscribe import REMINDERS
from microsolidarity.arrays import one_of
from microsolidarity.enqueue import enqueue_after_commit
from microsolidarity.services.batches import each_due

from ..ical import meeting_message, method_of
from ..links import crew_url, meeting_url
from ..models import Crew, CrewMembership, Meeting, MeetingReminder, MeetingStatus
from ..selectors import current_members

# The monthly rhythm: a crew with nothing scheduled this far ahead is nudged.
RHYTHM = timedelta(days=30)
# Crews one run of the rhythm job nudges (it runs hourly): a first start on a full database,
# where every crew is quiet, nudges them over a few hours rather than all in one run.
CREWS_A_RUN = 1_000


def arm_reminder(meeting: Meeting, now: datetime, *, told: bool = False) -> MeetingReminder:
    """(Re)arm the reminder for the meeting's current start; an unsent one for an earlier
    start is dropped. Due the congregation's lead time before, counted on the meeting's
    own clock, so a 19:00 meeting is reminded at 19:00 the day before even across a
    daylight-saving change; or now, if that has passed. When the crew was ``told`` of
    this start just now (queue_change_notice), a reminder due at once would say it again:
    it counts as sent."""
    MeetingReminder.objects.filter(meeting=meeting, sent_at__isnull=True).delete()
    # Aware datetimes in one ZoneInfo subtract on the wall clock, not in elapsed time.
    due = max(
        meeting.starts_at.astimezone(meeting.timezone) - meeting.congregation.reminder_lead, now
    )
    reminder, _created = MeetingReminder.objects.get_or_create(
        meeting=meeting,
        starts_at=meeting.starts_at,
        defaults={
            "congregation_id": meeting.congregation_id,
            "due_at": due,
            "sent_at": now if told and due <= now else None,
        },
    )
    return reminder


def _invitation(meeting: Meeting, person: Self, now: datetime) -> Attachment:
    """The meeting as it is at ``now``, for one member's calendar; the method goes in the
    MIME type too, where mail programs look for it (RFC 6047). Its texts are in the
    member's language."""
    with translation.override(person.email_language):
        calendar = meeting_message(meeting, attendee=person, now=now).decode()
    return Attachment("meeting.ics", calendar, f"text/calendar; method={method_of(meeting)}")


def _to_members(
    meeting: Meeting,
    key: str,
    subject: Callable[[Self], str | Promise],
    template: str,
    recipients: list[Self],
    calendar_at: datetime | None = None,
    kind: str = "",
    **context: object,
) -> list[Outgoing]:
    """One email per recipient about ``meeting``; ``key`` is made per recipient. With
    ``calendar_at``, each carries the meeting for its recipient's calendar, stamped then."""
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
            attachment=_invitation(meeting, person, calendar_at) if calendar_at else None,
            kind=kind,
        )
        for person in recipients
    ]


def queue_change_notice(meeting: Meeting, *, moved: bool, now: datetime) -> int:
    """Called by reschedule_meeting once the meeting has changed. Only a reminder already
    sent put the meeting in members' calendars: then each member is told, with the update
    for their calendar. Before that, the re-armed reminder carries the meeting as it is."""
    if not MeetingReminder.objects.filter(meeting=meeting, sent_at__isnull=False).exists():
        return 0
    emails = queue_emails(
        _to_members(
            meeting,
            f"changed:{meeting.pk}:v{meeting.version}",
            partial(_change_subject, meeting, moved),
            "crews/email/changed.txt",
            list(current_members(crew=meeting.crew)),
            calendar_at=now,
            moved=moved,
        ),
        now=now,
    )
    return len(emails)


def _change_subject(meeting: Meeting, moved: bool, person: Self) -> str | Promise:
    names = {"crew": meeting.crew.name, "when": moment_in_lazy(meeting.starts_at, person.timezone)}
    if moved:
        # Translators: an email's subject; {when} is a day and time ("Tuesday 8 December
        # 2026, 19:00 CET").
        return format_lazy(_("Moved: {crew} now meets on {when}"), **names)
    # Translators: an email's subject; {when} is a day and time ("Tuesday 8 December 2026,
    # 19:00 CET").
    return format_lazy(_("Changed: {crew} meeting on {when}"), **names)


def queue_cancellation_notice(meeting: Meeting, now: datetime) -> int:
    """Called by cancel_meeting: drops the pending reminder, and the emails about the
    meeting still in the outbox (their REQUEST arriving after the CANCEL would put the
    meeting back in a calendar), and tells the crew."""
    MeetingReminder.objects.filter(meeting=meeting, sent_at__isnull=True).delete()
    withdraw_emails(
        congregation_id=meeting.congregation_id,
        key_prefixes=[f"reminder:{meeting.pk}:", f"changed:{meeting.pk}:"],
    )
    members = list(current_members(crew=meeting.crew))
    emails = queue_emails(
        _to_members(
            meeting,
            f"cancelled:{meeting.pk}",
            # Translators: an email's subject.
            lambda _person: format_lazy(_("Cancelled: {crew} meeting"), crew=meeting.crew.name),
            "crews/email/cancelled.txt",
            members,
            calendar_at=now,
            # "When will you meet instead?": the crew's page is where the next is scheduled.
            url=crew_url(meeting.crew),
        ),
        now=now,
    )
    return len(emails)


def send_due_reminders(*, now: datetime | None = None) -> int:
    """Queue the reminder emails of every due reminder, once, and start sending them;
    returns how many emails."""
    now = now or timezone.now()

    def due() -> QuerySet[MeetingReminder]:
        return MeetingReminder.objects.filter(sent_at__isnull=True, due_at__lte=now).select_related(
            "meeting__crew", "meeting__congregation"
        )

    queued = each_due("send_meeting_reminders", due, partial(_remind, now=now), now=now)
    if queued:
        # A reminder is due now: the outbox need not wait for its next minute.
        enqueue_after_commit(congregation_tasks.send_emails)
    return queued


def _remind(reminder: MeetingReminder, *, now: datetime) -> int:
    """Queue one reminder's emails, if its meeting is still on at that time, and mark it."""
    meeting = reminder.meeting
    still_on = (
        meeting.status == MeetingStatus.SCHEDULED
        and meeting.starts_at == reminder.starts_at
        and meeting.starts_at > now
    )
    queued = []
    if still_on:
        recipients = [m for m in current_members(crew=meeting.crew) if m.reminders_enabled]
        queued = queue_emails(
            _to_members(
                meeting,
                f"reminder:{meeting.pk}:{reminder.starts_at:%Y%m%dT%H%M%S}",
                partial(_reminder_subject, meeting),
                "crews/email/reminder.txt",
                recipients,
                calendar_at=now,
                kind=REMINDERS,
            ),
            now=now,
        )
    reminder.sent_at = now
    reminder.save(update_fields=["sent_at"])
    return len(queued)


def _reminder_subject(meeting: Meeting, person: Self) -> str | Promise:
    return format_lazy(
        # Translators: an email's subject; {when} is a day and time ("Tuesday 8 December
        # 2026, 19:00 CET").
        _("{crew} meets on {when}"),
        crew=meeting.crew.name,
        when=moment_in_lazy(meeting.starts_at, person.timezone),
    )


def nudge_unlogged_meetings(*, now: datetime | None = None) -> int:
    """Once half the grace period has passed with a meeting not logged, ask its crew to
    log it before the missed-meeting deductions apply. Each meeting is nudged once;
    returns how many were asked."""
    now = now or timezone.now()
    # Half the congregation's grace period gone, and logging still open.
    halfway = Q()
    for hours in set(Congregation.objects.values_list("meeting_grace_hours", flat=True)):
        grace = timedelta(hours=hours)
        halfway |= Q(
            congregation__meeting_grace_hours=hours,
            starts_at__lte=now - grace / 2,
            starts_at__gt=now - grace,
        )

    def due() -> QuerySet[Meeting]:
        return Meeting.objects.filter(
            halfway,
            status=MeetingStatus.SCHEDULED,
            log_nudge_sent_at__isnull=True,
            deductions_applied_at__isnull=True,
        ).select_related("crew", "congregation")

    return each_due("nudge_unlogged_meetings", due, partial(_nudge, now=now), now=now)


def _nudge(meeting: Meeting, *, now: datetime) -> int:
    """Ask each member to log it: a notification that waits for them, emailed unless they
    chose otherwise; one per member however often the job runs."""
    path = reverse(
        "crews:meeting", kwargs={"congregation_slug": meeting.congregation.slug, "pk": meeting.pk}
    )
    notices = [
        Notice(
            congregation_id=meeting.congregation_id,
            recipient=person,
            about=f"meeting-to-log:{meeting.pk}",
            text=_nudge_subject(meeting, person),
            path=path,
            ask=Ask.MEETING_TO_LOG,
            subject=_nudge_subject(meeting, person),
            template="crews/email/log_nudge.txt",
            context={
                "meeting": meeting,
                "crew": meeting.crew,
                "closes_at": meeting.log_closes_at(),
            },
        )
        for person in current_members(crew=meeting.crew)
    ]
    told = notify(notices, now=now)
    meeting.log_nudge_sent_at = now
    meeting.save(update_fields=["log_nudge_sent_at"])
    return len(told)


def _nudge_subject(meeting: Meeting, person: Self) -> str | Promise:
    return format_lazy(
        # Translators: an email's subject and a notification; {by} is a day and time
        # ("Tuesday 8 December 2026, 19:00 CET").
        _("Did {crew} meet? Log it by {by}"),
        crew=meeting.crew.name,
        by=moment_in_lazy(meeting.log_closes_at(), person.timezone),
    )


def nudge_quiet_crews(*, now: datetime | None = None) -> int:
    """The monthly rhythm: one nudge a month to each formed crew or dyad that has no
    meeting scheduled in the coming month (the month is in each email's key, and the crew
    is marked), at most CREWS_A_RUN crews a run. A crew nudged this month is not looked at
    again, so a run with nothing left to nudge reads only the crews."""
    now = now or timezone.now()
    month_began = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    def quiet() -> QuerySet[Crew]:
        upcoming = Meeting.objects.filter(
            crew=OuterRef("pk"),
            status=MeetingStatus.SCHEDULED,
            starts_at__gte=now,
            starts_at__lt=now + RHYTHM,
        )
        return (
            Crew.objects.formed()
            .filter(Q(rhythm_nudged_at__isnull=True) | Q(rhythm_nudged_at__lt=month_began))
            .exclude(Exists(upcoming))
        )

    # A batch's crews are nudged together; a batch that fails goes crew by crew, so one
    # bad crew is marked failed and every other is nudged. The lambdas look _rhythm_nudges
    # up when called (the tests poison it).
    return each_due(
        "nudge_quiet_crews",
        quiet,
        lambda crew: _rhythm_nudges(Crew.objects.filter(pk=crew.pk), now=now),
        now=now,
        process_batch=lambda crews: _rhythm_nudges(crews, now=now),
        limit=CREWS_A_RUN,
    )


def _rhythm_nudges(crews: QuerySet[Crew], *, now: datetime) -> int:
    """Each of ``crews`` marked nudged, and an email to each of its current members who
    take reminders, in a few queries whatever their number: crew by crew, a first start's
    thousand quiet crews held a worker for a minute. Returns how many emails were queued."""
    month = f"{now.astimezone(UTC):%Y-%m}"
    found = list(crews.select_related("congregation"))
    if not found:
        return 0
    ids = [crew.pk for crew in found]
    Crew.objects.filter(pk__in=one_of(ids)).update(rhythm_nudged_at=now)
    seats = (
        CrewMembership.objects.current()
        .filter(crew_id__in=one_of(ids), member__reminders_enabled=True)
        .select_related("member")
        .order_by("member__display_name", "member_id")
    )
    members: dict[int, list[Self]] = defaultdict(list)
    for seat in seats:
        members[seat.crew_id].append(seat.member)
    emails = queue_emails(
        [
            Outgoing(
                congregation_id=crew.congregation_id,
                recipient=person,
                key=f"rhythm:{crew.pk}:{month}:{person.pk}",
                # Translators: an email's subject.
                subject=format_lazy(_("When does {crew} meet next?"), crew=crew.name),
                template="crews/email/rhythm_nudge.txt",
                context={"crew": crew, "url": crew_url(crew)},
                kind=REMINDERS,
            )
            # A nudge about the crew's meetings: off with the reminders.
            for crew in found
            for person in members[crew.pk]
        ],
        now=now,
    )
    return len(emails)
