"""Scheduling, changing, cancelling and logging a crew's meetings.

Functions that change a meeting lock the meeting's row, and take the ``version`` the person
was looking at, so an edit made on a stale page is refused instead of overwriting someone
else's change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from congregations import tasks as congregation_tasks
from congregations.models import Self
from congregations.request_keys import replayed, stored
from congregations.services.notifications import mark_read
from congregations.tenancy import tenant_service
from microsolidarity.enqueue import enqueue_after_commit
from reciprocity.rules import settled_notice
from reciprocity.services import award_consistency

from .. import tasks
from ..guards import require_member
from ..links import meeting_url
from ..models import Attendance, Crew, Meeting, MeetingStatus
from ..selectors import members_at
from .forming import lock_crew
from .reminders import arm_reminder, queue_cancellation_notice, queue_change_notice


def _lock_meetings_of(crew: Crew) -> Crew:
    """Changes to when a crew meets take turns, so two at once cannot both find a moment
    free, and a repeated form finds the meeting its first submission made. NO KEY UPDATE:
    writes that merely reference the crew (rounds, attendance) go on meanwhile."""
    return (
        Crew.objects.select_for_update(no_key=True, of=("self",))
        .select_related("congregation")
        .get(pk=crew.pk)
    )


def _lock_meeting(meeting: Meeting, version: int | None) -> Meeting:
    # The meeting's row only: FOR UPDATE on the joined congregation would hold up every
    # other write in the congregation, whose foreign keys PostgreSQL checks at commit.
    locked = Meeting.objects.select_for_update(of=("self",)).select_related("crew", "congregation")
    fresh = locked.get(pk=meeting.pk)
    if version is not None and fresh.version != version:
        raise ValidationError(
            gettext(
                "Someone else changed this meeting while you were looking at it. "
                "Reload the page to see their change, then try again."
            )
        )
    return fresh


def _require_future(starts_at: datetime, now: datetime) -> None:
    if timezone.is_naive(starts_at):
        raise ValueError("starts_at must carry its timezone.")
    if starts_at <= now:
        raise ValidationError({"starts_at": gettext("Choose a time in the future.")})


def _require_free(crew: Crew, starts_at: datetime, moving: Meeting | None = None) -> None:
    """Refuse a second meeting of the crew at the same moment (one_meeting_per_crew_start),
    naming the one already there and carrying its address, which the form shows as a link.
    The caller holds _lock_meetings_of(crew)."""
    others = Meeting.objects.filter(crew=crew, starts_at=starts_at)
    if moving is not None:
        others = others.exclude(pk=moving.pk)
    taken = (
        others.exclude(status=MeetingStatus.CANCELLED)
        .select_related("crew", "congregation")
        .first()
    )
    if taken is not None:
        raise ValidationError(
            {
                "starts_at": ValidationError(
                    gettext("%(meeting)s is already scheduled for that moment: %(url)s"),
                    code="taken",
                    params={"meeting": _named(taken), "url": meeting_url(taken)},
                )
            }
        )


def _named(meeting: Meeting) -> str:
    """A meeting as a refusal names it: "Tuesday crew on 2026-12-08 19:00", its moment in
    ISO 8601 on its own clock, which reads the same in every language."""
    return gettext("%(crew)s on %(when)s") % {
        "crew": meeting.crew,
        "when": f"{meeting.local_start:%Y-%m-%d %H:%M}",
    }


@tenant_service
@transaction.atomic
def schedule_meeting(
    *,
    crew: Crew,
    starts_at: datetime,
    scheduled_by: Self,
    place: str = "",
    agenda: str = "",
    request_key: str = "",
    now: datetime | None = None,
) -> Meeting:
    """A scheduled meeting of a formed crew; ``starts_at`` must be after ``now``, at a
    moment the crew has no other meeting. A repeated form (the same ``request_key``) gets
    the meeting its first submission made, and no second reminder."""
    now = now or timezone.now()
    crew = _lock_meetings_of(crew)
    require_member(crew, scheduled_by)
    if earlier := replayed(Meeting, request_key, crew.congregation, crew=crew):
        return earlier
    if crew.formed_at is None:
        raise ValidationError(
            gettext("%(crew)s meets once it is formed: it needs %(size)s people.")
            % {"crew": crew, "size": crew.min_size}
        )
    _require_future(starts_at, now)
    _require_free(crew, starts_at)
    meeting = Meeting(
        congregation_id=crew.congregation_id,
        crew=crew,
        starts_at=starts_at,
        timezone=crew.timezone,
        place=place,
        agenda=agenda,
        scheduled_by=scheduled_by,
        created_at=now,
        request_key=stored(request_key),
    )
    meeting.full_clean(exclude=["request_key"])
    meeting.save()
    _remind(meeting, now)
    return meeting


def _remind(meeting: Meeting, now: datetime, *, told: bool = False) -> None:
    """Arm the meeting's reminder; when it is due at once, start sending after commit."""
    reminder = arm_reminder(meeting, now, told=told)
    if reminder.due_at <= now and reminder.sent_at is None:
        enqueue_after_commit(tasks.send_meeting_reminders)


# Why a meeting can no longer be rescheduled or cancelled: (what was asked, its status).
NOT_NOW: dict[tuple[str, str], Promise] = {
    ("rescheduled", MeetingStatus.CANCELLED): _(
        "This meeting is cancelled: it cannot be rescheduled."
    ),
    ("rescheduled", MeetingStatus.LOGGED): _("This meeting is logged: it cannot be rescheduled."),
    ("rescheduled", "started"): _("This meeting has started: it can no longer be rescheduled."),
    ("cancelled", MeetingStatus.CANCELLED): _("This meeting is cancelled: it cannot be cancelled."),
    ("cancelled", MeetingStatus.LOGGED): _("This meeting is logged: it cannot be cancelled."),
    ("cancelled", "started"): _("This meeting has started: it can no longer be cancelled."),
}


def _require_not_started(meeting: Meeting, now: datetime, doing: str) -> None:
    """``doing``: "rescheduled" or "cancelled"."""
    if meeting.status != MeetingStatus.SCHEDULED:
        raise ValidationError(str(NOT_NOW[doing, meeting.status]))
    if meeting.has_started(now):
        raise ValidationError(str(NOT_NOW[doing, "started"]))


@tenant_service
@transaction.atomic
def reschedule_meeting(
    *,
    meeting: Meeting,
    changed_by: Self,
    starts_at: datetime,
    place: str | None = None,
    agenda: str | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> Meeting:
    """Move a meeting, or change its place or agenda, before it starts. Members whose
    calendars hold it already (its reminder went out) are sent the change."""
    now = now or timezone.now()
    meeting = _lock_meeting(meeting, version)
    require_member(meeting.crew, changed_by)
    _require_not_started(meeting, now, "rescheduled")
    _require_future(starts_at, now)
    _lock_meetings_of(meeting.crew)
    _require_free(meeting.crew, starts_at, moving=meeting)
    before = (meeting.starts_at, meeting.place, meeting.agenda)
    meeting.starts_at = starts_at
    meeting.timezone = meeting.crew.timezone
    if place is not None:
        meeting.place = place
    if agenda is not None:
        meeting.agenda = agenda
    meeting.version += 1
    meeting.full_clean()
    meeting.save()
    told = (meeting.starts_at, meeting.place, meeting.agenda) != before and queue_change_notice(
        meeting, moved=meeting.starts_at != before[0], now=now
    )
    if told:
        enqueue_after_commit(congregation_tasks.send_emails)
    _remind(meeting, now, told=bool(told))
    return meeting


@tenant_service
@transaction.atomic
def cancel_meeting(
    *, meeting: Meeting, cancelled_by: Self, version: int | None = None, now: datetime | None = None
) -> Meeting:
    """Only before it starts: a meeting cancelled in time costs nobody any points."""
    now = now or timezone.now()
    meeting = _lock_meeting(meeting, version)
    require_member(meeting.crew, cancelled_by)
    _require_not_started(meeting, now, "cancelled")
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancelled_at, meeting.cancelled_by = now, cancelled_by
    meeting.version += 1
    meeting.save(update_fields=["status", "cancelled_at", "cancelled_by", "version"])
    if queue_cancellation_notice(meeting, now):
        enqueue_after_commit(congregation_tasks.send_emails)
    return meeting


def _require_loggable(meeting: Meeting, now: datetime) -> None:
    if meeting.status == MeetingStatus.LOGGED:
        raise ValidationError(gettext("This meeting has been logged already."))
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError(gettext("This meeting was cancelled: there is nothing to log."))
    if meeting.is_settled_as_missed:
        raise ValidationError(settled_notice(meeting))
    if not meeting.has_started(now):
        raise ValidationError(gettext("This meeting has not started yet: log it once it has."))
    if now > meeting.log_closes_at():
        hours = meeting.congregation.meeting_grace_hours
        raise ValidationError(
            ngettext(
                "The time to log this meeting has passed: meetings are logged within "
                "%(hours)s hour of their start.",
                "The time to log this meeting has passed: meetings are logged within "
                "%(hours)s hours of their start.",
                hours,
            )
            % {"hours": hours}
        )


def _present_members(meeting: Meeting, present: Iterable[Self]) -> tuple[list[Self], list[Self]]:
    """(everyone in the crew when it started, those of them marked present); refuses anyone
    marked present who was not in the crew at that moment."""
    members = list(members_at(crew=meeting.crew, moment=meeting.starts_at))
    ids = {m.pk for m in members}
    chosen = list(dict.fromkeys(present))
    strangers = [p for p in chosen if p.pk not in ids]
    if strangers:
        names = ", ".join(str(p) for p in strangers)
        raise ValidationError(
            {
                "present": ngettext(
                    "Not in %(crew)s when this meeting started: %(names)s.",
                    "Not in %(crew)s when this meeting started: %(names)s.",
                    len(strangers),
                )
                % {"crew": meeting.crew, "names": names}
            }
        )
    return members, chosen


@tenant_service
@transaction.atomic
def mark_attendance(
    *, meeting: Meeting, member: Self, present: bool, marked_by: Self, now: datetime | None = None
) -> Attendance:
    """One tap while logging: note whether one member is there. Nothing is scored until the
    meeting is logged."""
    now = now or timezone.now()
    meeting = _lock_meeting(meeting, None)
    require_member(meeting.crew, marked_by)
    _require_loggable(meeting, now)
    if not members_at(crew=meeting.crew, moment=meeting.starts_at).filter(pk=member.pk).exists():
        raise ValidationError(
            gettext("%(name)s was not in %(crew)s when this meeting started.")
            % {"name": member, "crew": meeting.crew}
        )
    attendance, _created = Attendance.objects.update_or_create(
        meeting=meeting,
        member=member,
        defaults={"present": present, "congregation_id": meeting.congregation_id},
    )
    return attendance


@tenant_service
@transaction.atomic
def log_meeting(
    *,
    meeting: Meeting,
    present: Iterable[Self],
    logged_by: Self,
    reflections: str = "",
    envisioning: str = "",
    now: datetime | None = None,
) -> Meeting:
    """Record who came, once, between the start and the end of the grace period; each Self
    present earns consistency points for their n-th meeting in this crew."""
    now = now or timezone.now()
    meeting = _lock_meeting(meeting, None)
    require_member(meeting.crew, logged_by)
    _require_loggable(meeting, now)
    members, attendees = _present_members(meeting, present)
    # Counting "the n-th meeting" needs the crew's meetings logged one at a time.
    lock_crew(meeting.crew)
    here = {p.pk for p in attendees}
    # Everyone's attendance in one statement, over the taps made while logging: one
    # update_or_create a member took a third of logging a meeting.
    Attendance.objects.bulk_create(
        [
            Attendance(
                congregation_id=meeting.congregation_id,
                meeting=meeting,
                member=member,
                present=member.pk in here,
            )
            for member in members
        ],
        update_conflicts=True,
        unique_fields=["meeting", "member"],
        update_fields=["present"],
    )
    meeting.status = MeetingStatus.LOGGED
    meeting.logged_at, meeting.logged_by = now, logged_by
    meeting.reflections, meeting.envisioning = reflections, envisioning
    meeting.version += 1
    # Logging leaves the meeting under the same constraints (logged, it has logged_at) and
    # its crew and congregation as they were, and its logger was just found in the crew:
    # what a person wrote, the notes, is what there is to check. Validating the rest ran
    # a query for each relation and each constraint.
    meeting.full_clean(
        exclude=["congregation", "crew", "logged_by"],
        validate_unique=False,
        validate_constraints=False,
    )
    meeting.save()
    award_consistency(meeting=meeting, attendees=attendees, logged_by=logged_by, now=now)
    # Logged: the nudge to log it no longer waits for anyone of the crew.
    mark_read(
        congregation_id=meeting.congregation_id, about=f"meeting-to-log:{meeting.pk}", now=now
    )
    return meeting


@tenant_service
@transaction.atomic
def update_meeting_notes(
    *,
    meeting: Meeting,
    edited_by: Self,
    reflections: str,
    envisioning: str,
    version: int | None = None,
    now: datetime | None = None,
) -> Meeting:
    """Change a logged meeting's reflections and envisioning notes (never its attendance)."""
    meeting = _lock_meeting(meeting, version)
    require_member(meeting.crew, edited_by)
    if meeting.status != MeetingStatus.LOGGED:
        raise ValidationError(gettext("Notes belong to a meeting that has been logged."))
    meeting.reflections, meeting.envisioning = reflections, envisioning
    meeting.version += 1
    meeting.full_clean()
    meeting.save(update_fields=["reflections", "envisioning", "version"])
    return meeting
