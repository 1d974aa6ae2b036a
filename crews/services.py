"""Every change to crews, dyads and their meetings goes through here.

Rules a person can break raise ``ValidationError`` with a readable message before anything
is written. Functions that change who is in a crew lock the crew's row first, so two
people joining at once cannot make a crew of nine; functions that change a meeting lock
the meeting's row, and take the ``version`` the person was looking at, so an edit made on
a stale page is refused instead of overwriting someone else's change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from congregations.models import Congregation, Membership, Self
from congregations.request_keys import replayed, stored
from congregations.selectors import refuse_strangers
from congregations.tasks import send_emails
from congregations.tenancy import tenant_service
from congregations.tokens import new_token
from microsolidarity.enqueue import enqueue_after_commit
from reciprocity.rules import settled_notice
from reciprocity.services import award_consistency

from . import tasks
from .links import meeting_url
from .models import (
    SIZES,
    Attendance,
    CalendarFeed,
    Crew,
    CrewInvitation,
    CrewMembership,
    Kind,
    Meeting,
    MeetingStatus,
)
from .notifications import arm_reminder, queue_cancellation_notice
from .selectors import is_current_member, members_at

NOT_A_MEMBER = "Only members of this crew can do that."


def _lock_crew(crew: Crew) -> Crew:
    return Crew.objects.select_for_update().get(pk=crew.pk)


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
            "Someone else changed this meeting while you were looking at it. "
            "Reload the page to see their change, then try again."
        )
    return fresh


def _require_member(crew: Crew, self_: Self) -> None:
    if not is_current_member(crew=crew, self_=self_):
        raise ValidationError(NOT_A_MEMBER)


def _congregation_members(congregation: Congregation, selves: Iterable[Self]) -> list[Self]:
    """The given Selves, once each, refusing anyone who is not a current member."""
    people = list(dict.fromkeys(selves))
    refuse_strangers(congregation=congregation, selves=people)
    return people


def _kind(kind: str) -> Kind:
    if kind not in Kind.values:
        raise ValidationError({"kind": "A circle is a crew or a dyad."})
    return Kind(kind)


def _size_words(kind: Kind) -> str:
    low, high = SIZES[kind]
    return "exactly 2 people" if kind == Kind.DYAD else f"{low} to {high} people"


def _new_crew(
    congregation: Congregation,
    name: str,
    kind: Kind,
    purpose: str,
    proposed_by: Self,
    tz: ZoneInfo | str | None,
    now: datetime,
    request_key: str | None = None,
) -> Crew:
    crew = Crew(
        congregation=congregation,
        kind=kind,
        name=(name or "").strip(),
        purpose=purpose,
        timezone=tz or proposed_by.timezone,
        proposed_by=proposed_by,
        created_at=now,
        request_key=request_key,
    )
    # The name's uniqueness is the one constraint, checked below in words a person
    # understands; its length and its being one line, here.
    crew.full_clean(exclude=["request_key"], validate_constraints=False)
    if Crew.objects.filter(congregation=congregation, name__iexact=crew.name).exists():
        raise ValidationError({"name": f"There is already a crew called “{crew.name}”."})
    crew.save()
    return crew


def _join(crew: Crew, member: Self, now: datetime) -> None:
    CrewMembership.objects.create(
        congregation_id=crew.congregation_id, crew=crew, member=member, joined_at=now
    )


@tenant_service
@transaction.atomic
def form_crew(
    *,
    congregation: Congregation,
    name: str,
    members: Iterable[Self],
    kind: str = Kind.CREW,
    purpose: str = "",
    timezone: ZoneInfo | str | None = None,
    now: datetime | None = None,
) -> Crew:
    """A formed crew (3–8) or dyad (exactly 2) of congregation members who have all agreed;
    the propose-and-accept flow in the browser ends in the same state."""
    now = now or _now()
    kind = _kind(kind)
    people = _congregation_members(congregation, members)
    low, high = SIZES[kind]
    if not low <= len(people) <= high:
        raise ValidationError(f"A {kind.label} is {_size_words(kind)}; this has {len(people)}.")
    crew = _new_crew(congregation, name, kind, purpose, people[0], timezone, now)
    for person in people:
        _join(crew, person, now)
    crew.formed_at = now
    crew.save(update_fields=["formed_at"])
    return crew


@tenant_service
@transaction.atomic
def propose_crew(
    *,
    congregation: Congregation,
    name: str,
    proposed_by: Self,
    invitees: Iterable[Self],
    kind: str = Kind.CREW,
    purpose: str = "",
    timezone: ZoneInfo | str | None = None,
    request_key: str = "",
    now: datetime | None = None,
) -> Crew:
    """Propose a crew or dyad: the proposer joins it, each invitee is asked, and it is
    formed once enough of them accept. A repeated form (the same ``request_key``) gets the
    proposal its first submission made."""
    now = now or _now()
    kind = _kind(kind)
    # Proposals in a congregation take turns: a repeated form finds the first one's crew,
    # and two proposals of one name cannot both pass the name check. NO KEY UPDATE: other
    # writes in the congregation, whose foreign keys share-lock this row, go on.
    congregation = Congregation.objects.select_for_update(no_key=True).get(pk=congregation.pk)
    _congregation_members(congregation, [proposed_by])
    if earlier := replayed(Crew, request_key, congregation, proposed_by=proposed_by, kind=kind):
        return earlier
    people = [p for p in _congregation_members(congregation, invitees) if p != proposed_by]
    high = SIZES[kind][1]
    if not people:
        raise ValidationError({"invitees": "Invite at least one person."})
    if len(people) > high - 1:
        raise ValidationError(
            {"invitees": f"A {kind.label} is {_size_words(kind)}: invite at most {high - 1}."}
        )
    crew = _new_crew(
        congregation, name, kind, purpose, proposed_by, timezone, now, stored(request_key)
    )
    _join(crew, proposed_by, now)
    for person in people:
        CrewInvitation.objects.create(
            congregation=congregation,
            crew=crew,
            invitee=person,
            invited_by=proposed_by,
            created_at=now,
        )
    return crew


def _require_room(crew: Crew) -> int:
    """The crew's current size, refusing when it is full."""
    size = CrewMembership.objects.filter(crew=crew).current().count()
    if size >= crew.max_size:
        raise ValidationError(
            f"{crew} is full: a {crew.get_kind_display()} is at most {crew.max_size} people."
        )
    return size


def _require_free_seat(crew: Crew) -> None:
    """Seats are seats: the members and those asked and not yet answering never number
    more than the crew holds. The caller holds the crew's lock."""
    size = _require_room(crew)
    asked = CrewInvitation.objects.filter(crew=crew, answered_at__isnull=True).count()
    if size + asked >= crew.max_size:
        raise ValidationError(
            {
                "invitee": f"{crew} has no free seat: {size} in it and {asked} asked, and a "
                f"{crew.get_kind_display()} is at most {crew.max_size} people. Ask again if "
                "someone says no."
            }
        )


@tenant_service
@transaction.atomic
def invite_to_crew(
    *, crew: Crew, invitee: Self, invited_by: Self, now: datetime | None = None
) -> CrewInvitation:
    """A member asks someone else in the congregation to join their crew."""
    now = now or _now()
    crew = _lock_crew(crew)
    _require_member(crew, invited_by)
    _congregation_members(crew.congregation, [invitee])
    if is_current_member(crew=crew, self_=invitee):
        raise ValidationError(f"{invitee} is in {crew} already.")
    if CrewInvitation.objects.filter(crew=crew, invitee=invitee, answered_at__isnull=True).exists():
        raise ValidationError(f"{invitee} has been asked already.")
    _require_free_seat(crew)
    return CrewInvitation.objects.create(
        congregation_id=crew.congregation_id,
        crew=crew,
        invitee=invitee,
        invited_by=invited_by,
        created_at=now,
    )


@tenant_service
@transaction.atomic
def answer_crew_invitation(
    *, invitation: CrewInvitation, answered_by: Self, accept: bool, now: datetime | None = None
) -> CrewInvitation:
    """Only the invitee answers. Accepting joins the crew, and forms it once it has enough
    people; a full crew refuses the answer with a message. The one who fills the crew
    closes its other open invitations as withdrawn: there is no seat left to answer for."""
    now = now or _now()
    if invitation.invitee_id != answered_by.pk:
        raise ValidationError("Only the person invited can answer this invitation.")
    crew = _lock_crew(invitation.crew)
    invitation = CrewInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.withdrawn_at:
        raise ValidationError(f"{crew} filled up before you answered: there is no seat left.")
    if invitation.answered_at:
        raise ValidationError("You have answered this invitation already.")
    if accept:
        size = _require_room(crew) + 1
        _join(crew, answered_by, now)
        if crew.formed_at is None and size >= crew.min_size:
            crew.formed_at = now
            crew.save(update_fields=["formed_at"])
        if size >= crew.max_size:
            CrewInvitation.objects.filter(crew=crew, answered_at__isnull=True).exclude(
                pk=invitation.pk
            ).update(answered_at=now, withdrawn_at=now)
    invitation.answered_at, invitation.accepted = now, accept
    invitation.save(update_fields=["answered_at", "accepted"])
    return invitation


@tenant_service
@transaction.atomic
def leave_crew(*, crew: Crew, member: Self, now: datetime | None = None) -> CrewMembership:
    """Leave a crew. The membership keeps its dates, so past meetings still know who was in."""
    now = now or _now()
    _lock_crew(crew)
    membership = CrewMembership.objects.filter(crew=crew, member=member).current().first()
    if membership is None:
        raise ValidationError(f"{member} is not in {crew}.")
    membership.left_at = now
    membership.save(update_fields=["left_at"])
    return membership


def end_crew_memberships(*, congregation: Congregation, member: Self, now: datetime) -> None:
    """Someone who leaves the congregation leaves its crews, and their open invitations lapse."""
    CrewMembership.objects.filter(
        crew__congregation=congregation, member=member, left_at__isnull=True
    ).update(left_at=now)
    CrewInvitation.objects.filter(
        crew__congregation=congregation, invitee=member, answered_at__isnull=True
    ).update(answered_at=now, accepted=False)


def _require_future(starts_at: datetime, now: datetime) -> None:
    if timezone.is_naive(starts_at):
        raise ValueError("starts_at must carry its timezone.")
    if starts_at <= now:
        raise ValidationError({"starts_at": "Choose a time in the future."})


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
                    "%(meeting)s is already scheduled for that moment: %(url)s",
                    code="taken",
                    params={"meeting": str(taken), "url": meeting_url(taken)},
                )
            }
        )


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
    now = now or _now()
    crew = _lock_meetings_of(crew)
    _require_member(crew, scheduled_by)
    if earlier := replayed(Meeting, request_key, crew.congregation, crew=crew):
        return earlier
    if crew.formed_at is None:
        raise ValidationError(f"{crew} meets once it is formed: it needs {crew.min_size} people.")
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


def _remind(meeting: Meeting, now: datetime) -> None:
    """Arm the meeting's reminder; when it is due at once, start sending after commit."""
    if arm_reminder(meeting, now).due_at <= now:
        enqueue_after_commit(tasks.send_meeting_reminders)


def _require_not_started(meeting: Meeting, now: datetime, doing: str) -> None:
    if meeting.status != MeetingStatus.SCHEDULED:
        raise ValidationError(
            f"This meeting is {meeting.get_status_display()}: it cannot be {doing}."
        )
    if meeting.has_started(now):
        raise ValidationError(f"This meeting has started: it can no longer be {doing}.")


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
    """Move a meeting, or change its place or agenda, before it starts."""
    now = now or _now()
    meeting = _lock_meeting(meeting, version)
    _require_member(meeting.crew, changed_by)
    _require_not_started(meeting, now, "rescheduled")
    _require_future(starts_at, now)
    _lock_meetings_of(meeting.crew)
    _require_free(meeting.crew, starts_at, moving=meeting)
    meeting.starts_at = starts_at
    meeting.timezone = meeting.crew.timezone
    if place is not None:
        meeting.place = place
    if agenda is not None:
        meeting.agenda = agenda
    meeting.version += 1
    meeting.full_clean()
    meeting.save()
    _remind(meeting, now)
    return meeting


@tenant_service
@transaction.atomic
def cancel_meeting(
    *, meeting: Meeting, cancelled_by: Self, version: int | None = None, now: datetime | None = None
) -> Meeting:
    """Only before it starts: a meeting cancelled in time costs nobody any points."""
    now = now or _now()
    meeting = _lock_meeting(meeting, version)
    _require_member(meeting.crew, cancelled_by)
    _require_not_started(meeting, now, "cancelled")
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancelled_at, meeting.cancelled_by = now, cancelled_by
    meeting.version += 1
    meeting.save(update_fields=["status", "cancelled_at", "cancelled_by", "version"])
    if queue_cancellation_notice(meeting, now):
        enqueue_after_commit(send_emails)
    return meeting


def _require_loggable(meeting: Meeting, now: datetime) -> None:
    if meeting.status == MeetingStatus.LOGGED:
        raise ValidationError("This meeting has been logged already.")
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError("This meeting was cancelled: there is nothing to log.")
    if meeting.is_settled_as_missed:
        raise ValidationError(settled_notice(meeting))
    if not meeting.has_started(now):
        raise ValidationError("This meeting has not started yet: log it once it has.")
    if now > meeting.log_closes_at():
        raise ValidationError(
            f"The time to log this meeting has passed: meetings are logged within "
            f"{meeting.congregation.meeting_grace_hours} hours of their start."
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
            {"present": f"Not in {meeting.crew} when this meeting started: {names}."}
        )
    return members, chosen


@tenant_service
@transaction.atomic
def mark_attendance(
    *, meeting: Meeting, member: Self, present: bool, marked_by: Self, now: datetime | None = None
) -> Attendance:
    """One tap while logging: note whether one member is there. Nothing is scored until the
    meeting is logged."""
    now = now or _now()
    meeting = _lock_meeting(meeting, None)
    _require_member(meeting.crew, marked_by)
    _require_loggable(meeting, now)
    if not members_at(crew=meeting.crew, moment=meeting.starts_at).filter(pk=member.pk).exists():
        raise ValidationError(f"{member} was not in {meeting.crew} when this meeting started.")
    attendance, _ = Attendance.objects.update_or_create(
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
    now = now or _now()
    meeting = _lock_meeting(meeting, None)
    _require_member(meeting.crew, logged_by)
    _require_loggable(meeting, now)
    members, attendees = _present_members(meeting, present)
    # Counting "the n-th meeting" needs the crew's meetings logged one at a time.
    _lock_crew(meeting.crew)
    here = {p.pk for p in attendees}
    for member in members:
        Attendance.objects.update_or_create(
            meeting=meeting,
            member=member,
            defaults={"present": member.pk in here, "congregation_id": meeting.congregation_id},
        )
    meeting.status = MeetingStatus.LOGGED
    meeting.logged_at, meeting.logged_by = now, logged_by
    meeting.reflections, meeting.envisioning = reflections, envisioning
    meeting.version += 1
    meeting.full_clean()
    meeting.save()
    award_consistency(meeting=meeting, attendees=attendees, logged_by=logged_by, now=now)
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
    _require_member(meeting.crew, edited_by)
    if meeting.status != MeetingStatus.LOGGED:
        raise ValidationError("Notes belong to a meeting that has been logged.")
    meeting.reflections, meeting.envisioning = reflections, envisioning
    meeting.version += 1
    meeting.full_clean()
    meeting.save(update_fields=["reflections", "envisioning", "version"])
    return meeting


@transaction.atomic
def renew_calendar_feed(*, owner: Self, now: datetime | None = None) -> str:
    """A new secret address for the Self's calendar feed; any old address stops working.
    Returns the token, which is not stored."""
    token, token_hash = new_token()
    CalendarFeed.objects.update_or_create(
        owner=owner,
        defaults={"token_hash": token_hash, "created_at": now or _now()},
    )
    return token


@transaction.atomic
def revoke_calendar_feed(*, owner: Self) -> None:
    CalendarFeed.objects.filter(owner=owner).delete()


def _now() -> datetime:
    return timezone.now()


def on_membership_ended(sender: Any, *, membership: Membership, now: datetime, **_: Any) -> None:
    end_crew_memberships(congregation=membership.congregation, member=membership.member, now=now)
