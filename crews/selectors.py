"""Read-only queries about crews, their members and their meetings.

Each page's selector runs a fixed number of queries, whatever the size of the congregation
or the length of a crew's history. Selectors that look across congregations (a Self's own
crews, their calendar) disable the tenant scope and filter by the Self instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from congregations.models import Congregation, Membership, Self
from congregations.selectors import current_memberships, member_selves
from congregations.tenancy import across_congregations, tenant
from congregations.tokens import hash_token
from microsolidarity.compiled import Compiled
from microsolidarity.lazy import lazy

from .models import (
    Attendance,
    CalendarFeed,
    Crew,
    CrewInvitation,
    CrewMembership,
    Kind,
    Meeting,
    MeetingStatus,
)

# How much of a crew's coming and past rhythm its page shows; the history has the rest.
UPCOMING_SHOWN = 5
RECENT_SHOWN = 5
# How far back the calendar feed reaches: calendars keep what they have already seen.
CALENDAR_PAST = timedelta(days=365)


def members_at(*, crew: Crew | int, moment: datetime) -> QuerySet[Self]:
    """The Selves who were in the crew (or the crew of this id) at ``moment``, by name."""
    ids = CrewMembership.objects.filter(crew=crew).at(moment).values("member_id")
    return Self.objects.filter(pk__in=ids).order_by("display_name")


def current_members(*, crew: Crew) -> QuerySet[Self]:
    ids = CrewMembership.objects.filter(crew=crew).current().values("member_id")
    return Self.objects.filter(pk__in=ids).order_by("display_name")


def current_crew_ids(self_: Self | int) -> QuerySet[CrewMembership]:
    """The ids of the crews and dyads the Self (or the Self of this id) is in now, as a
    query of one column to filter by."""
    return CrewMembership.objects.current().filter(member=self_).values("crew_id")


def is_current_member(*, crew: Crew, self_: Self) -> bool:
    return CrewMembership.objects.filter(crew=crew, member=self_).current().exists()


def _current_size() -> Coalesce:
    """A crew's number of current members, as an annotation that joins nothing."""
    counted = (
        CrewMembership.objects.filter(crew=OuterRef("pk"), left_at__isnull=True)
        .order_by()
        .values("crew")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def crews_of(*, congregation: Congregation) -> QuerySet[Crew]:
    """Every crew and dyad of the congregation, proposals included, each with its ``size``."""
    return (
        Crew.objects.filter(congregation=congregation)
        .annotate(size=_current_size())
        .order_by("kind", "name")
    )


def _in_formed_crews(congregation: Congregation) -> QuerySet[CrewMembership]:
    return CrewMembership.objects.filter(
        congregation=congregation, left_at__isnull=True, crew__formed_at__isnull=False
    )


@dataclass(frozen=True)
class CrewAhead:
    """One of a Self's crews (annotated with its ``size``) and its next meeting."""

    crew: Crew
    next_meeting: Meeting | None


def crews_with_next_meeting(
    *, self_: Self, now: datetime, congregation: Congregation | None = None
) -> list[CrewAhead]:
    """The Self's current crews and dyads (proposals included), across every congregation
    unless one is given, each with ``size`` and ``next_meeting``: the first scheduled
    meeting that has not started, or None."""
    walls = across_congregations() if congregation is None else tenant(congregation)
    with walls:
        found = MY_CREWS.objects(now, [self_.pk])
        upcoming = [crew.next_meeting_id for crew in found if crew.next_meeting_id]
        meetings = {meeting.pk: meeting for meeting in MEETINGS.objects(now, upcoming)}
    return [CrewAhead(crew=c, next_meeting=meetings.get(c.next_meeting_id)) for c in found]


def _my_crews(now: datetime, self_id: list[int]) -> QuerySet[Crew]:
    """The Self's current crews and dyads in scope, with ``size`` and the id of the next
    meeting (``next_meeting_id``)."""
    (me,) = self_id
    upcoming = Meeting.objects.filter(
        crew=OuterRef("pk"), status=MeetingStatus.SCHEDULED, starts_at__gt=now
    ).order_by("starts_at")
    return (
        Crew.objects.filter(pk__in=current_crew_ids(me))
        .select_related("congregation")
        .annotate(size=_current_size(), next_meeting_id=Subquery(upcoming.values("pk")[:1]))
        .order_by("congregation__name", "kind", "name")
    )


def _meetings(now: datetime, ids: list[int]) -> QuerySet[Meeting]:
    return Meeting.objects.filter(pk__in=ids)


# Every home page reads them: building and compiling them cost more than running them.
MY_CREWS = Compiled(_my_crews)
MEETINGS = Compiled(_meetings)


@dataclass(frozen=True)
class Roster:
    """What everyone in the congregation sees the same: who is in it, its crews and dyads,
    and who has none yet."""

    members: list[Membership]
    crews: list[Crew]
    without_crew: list[Membership]


def congregation_roster(*, congregation: Congregation) -> Roster:
    members = list(current_memberships(congregation=congregation))
    in_crews = set(_in_formed_crews(congregation).values_list("member_id", flat=True))
    return Roster(
        members=members,
        crews=list(crews_of(congregation=congregation)),
        without_crew=[m for m in members if m.member_id not in in_crews],
    )


@dataclass(frozen=True)
class CongregationOverview:
    """The congregation's home: its roster, read only when the page's cached copy is out
    of date, and the viewer's own crews (what waits for them is reciprocity's
    ``waiting_for``, which sees the whole game)."""

    roster: Roster
    mine: list[CrewAhead]

    @property
    def mine_ids(self) -> set[int]:
        return {ahead.crew.pk for ahead in self.mine}

    @property
    def mine_key(self) -> str:
        """Which crews' names the viewer may follow: part of the cached crew list's key."""
        return "-".join(str(pk) for pk in sorted(self.mine_ids))


def congregation_overview(
    *, congregation: Congregation, self_: Self, now: datetime
) -> CongregationOverview:
    return CongregationOverview(
        roster=lazy(lambda: congregation_roster(congregation=congregation)),
        mine=crews_with_next_meeting(self_=self_, now=now, congregation=congregation),
    )


def dating_pool(*, congregation: Congregation) -> QuerySet[Membership]:
    """Every member with the work they do for money and the work most meaningful to them,
    and how many formed crews (``crew_count``) and dyads (``dyad_count``) they are in."""
    in_formed = Q(
        member__crew_memberships__congregation=congregation,
        member__crew_memberships__left_at__isnull=True,
        member__crew_memberships__crew__formed_at__isnull=False,
    )

    def count(kind: Kind) -> Count:
        return Count(
            "member__crew_memberships",
            filter=in_formed & Q(member__crew_memberships__crew__kind=kind),
        )

    return current_memberships(congregation=congregation).annotate(
        crew_count=count(Kind.CREW), dyad_count=count(Kind.DYAD)
    )


@dataclass(frozen=True)
class CrewPage:
    crew: Crew
    members: list[CrewMembership]
    to_log: list[Meeting]
    upcoming: list[Meeting]
    recent: list[Meeting]
    invitations: list[CrewInvitation]
    # When the page would read differently with nothing changed but the time: a meeting
    # starts, or the time to log one ends. None: not before something changes.
    changes_at: datetime | None

    @property
    def next_meeting(self) -> Meeting | None:
        return self.upcoming[0] if self.upcoming else None


def _with_presence(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    return meetings.annotate(
        present_count=Count("attendances", filter=Q(attendances__present=True))
    )


def next_start(*, crew: Crew, now: datetime) -> datetime | None:
    """When the crew's next meeting starts, scheduled or cancelled: from then on it is one
    of the meetings that have started."""
    later = Meeting.objects.filter(crew=crew, starts_at__gt=now)
    return later.aggregate(first=Min("starts_at"))["first"]


def crew_page(*, crew: Crew, now: datetime) -> CrewPage:
    """What a crew's members see of it: who is in, the meetings waiting to be logged, the
    next ones, the last few held, and who has been asked to join."""
    open_since = now - crew.congregation.meeting_grace
    open_meetings = list(
        Meeting.objects.filter(crew=crew, status=MeetingStatus.SCHEDULED, starts_at__gte=open_since)
        .select_related("congregation")
        .order_by("starts_at")[: UPCOMING_SHOWN * 2]
    )
    to_log = [m for m in open_meetings if m.has_started(now)]
    recent = meeting_history(crew=crew, now=now).exclude(pk__in=[m.pk for m in to_log])
    changes = [m.log_closes_at() for m in to_log] + [next_start(crew=crew, now=now)]
    return CrewPage(
        crew=crew,
        members=list(
            CrewMembership.objects.filter(crew=crew)
            .current()
            .select_related("member")
            .order_by("member__display_name")
        ),
        to_log=to_log,
        upcoming=[m for m in open_meetings if not m.has_started(now)][:UPCOMING_SHOWN],
        recent=list(recent[:RECENT_SHOWN]),
        invitations=list(
            CrewInvitation.objects.filter(crew=crew, answered_at__isnull=True)
            .select_related("invitee")
            .order_by("created_at")
        ),
        changes_at=min((moment for moment in changes if moment is not None), default=None),
    )


def invitable(*, crew: Crew) -> QuerySet[Self]:
    """Congregation members who are not in the crew and have not been asked to join it."""
    return (
        member_selves(congregation=crew.congregation)
        .exclude(pk__in=CrewMembership.objects.filter(crew=crew).current().values("member_id"))
        .exclude(
            pk__in=CrewInvitation.objects.filter(crew=crew, answered_at__isnull=True).values(
                "invitee_id"
            )
        )
    )


def open_invitation(*, crew: Crew, self_: Self) -> CrewInvitation | None:
    return (
        CrewInvitation.objects.filter(crew=crew, invitee=self_, answered_at__isnull=True)
        .select_related("invited_by")
        .first()
    )


# What a line of a list of meetings shows (templates/crews/_meeting_line.html): not their
# notes, which may run to pages.
MEETING_LINE = ("congregation_id", "crew_id", "starts_at", "timezone", "place", "status")


def meeting_history(*, crew: Crew, now: datetime) -> QuerySet[Meeting]:
    """The crew's meetings that have started (or were due to), newest first, as their lines
    show them, each with how many were present."""
    started = Meeting.objects.filter(crew=crew, starts_at__lte=now).only(*MEETING_LINE)
    return _with_presence(started).order_by("-starts_at")


@dataclass(frozen=True)
class AttendanceRow:
    member: Self
    present: bool


def meeting_attendance(*, meeting: Meeting) -> list[AttendanceRow]:
    """Everyone in the crew when the meeting started, and whether they are marked present
    (a draft until the meeting is logged): one query, counted from the meeting's start."""
    return [
        AttendanceRow(member=member, present=member.present)
        for member in ATTENDANCE.objects(meeting.starts_at, [meeting.crew_id], [meeting.pk])
    ]


def _attendance(now: datetime, crew_id: list[int], meeting_id: list[int]) -> QuerySet[Self]:
    # ``now`` is the meeting's start: the compiled query binds its times from it.
    (crew,), (pk,) = crew_id, meeting_id
    here = Attendance.objects.filter(meeting_id=pk, member_id=OuterRef("pk"), present=True)
    return members_at(crew=crew, moment=now).annotate(present=Exists(here))


# Every meeting page lists it, for a crew's members who open it in turn.
ATTENDANCE = Compiled(_attendance)


def marked_present(*, meeting: Meeting) -> QuerySet[Self]:
    """Those tapped as present so far: who a logged meeting says came."""
    here = Attendance.objects.filter(meeting=meeting, present=True).values("member_id")
    return Self.objects.filter(pk__in=here)


def is_marked_present(*, meeting: Meeting, self_: Self) -> bool:
    return Attendance.objects.filter(meeting=meeting, member=self_, present=True).exists()


def congregation_self(*, congregation: Congregation, pk: int) -> Self | None:
    """A Self who is or was a member of the congregation: a name from elsewhere is never
    shown on its pages."""
    return Self.objects.filter(memberships__congregation=congregation, pk=pk).distinct().first()


def calendar_owner(*, token: str) -> Self | None:
    """The Self whose calendar feed this secret token opens, if it has not been revoked."""
    feed = CalendarFeed.objects.filter(token_hash=hash_token(token)).select_related("owner").first()
    return feed.owner if feed else None


def calendar_meetings(*, self_: Self, now: datetime) -> list[Meeting]:
    """Meetings of the crews and dyads the Self is in now, in every congregation, from a
    year ago on, cancelled ones included so calendars can drop them."""
    with across_congregations():
        return list(
            Meeting.objects.filter(
                crew_id__in=current_crew_ids(self_), starts_at__gte=now - CALENDAR_PAST
            )
            .select_related("crew", "congregation")
            .order_by("starts_at")
        )


def calendar_feed_of(*, self_: Self) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(owner=self_).first()


def find_crew(*, congregation: Congregation, pk: int) -> Crew | None:
    return (
        Crew.objects.filter(congregation=congregation, pk=pk).select_related("congregation").first()
    )


def crew_and_seat(*, congregation: Congregation, pk: int, self_: Self) -> tuple[Crew | None, bool]:
    """The congregation's crew, and whether the Self is one of its current members: for a
    member, the one query that reads their seat reads the crew too."""
    seats = SEAT.objects(timezone.now(), [pk], [self_.pk])
    seat = seats[0] if seats else None
    crew = seat.crew if seat else find_crew(congregation=congregation, pk=pk)
    if crew is not None:
        crew.congregation = congregation  # the same row: no need to read it again
    return crew, seat is not None


def _seat(now: datetime, crew_id: list[int], self_id: list[int]) -> QuerySet[CrewMembership]:
    (crew,), (me,) = crew_id, self_id
    seats = CrewMembership.objects.filter(crew_id=crew, member_id=me).current()
    # At most one current seat (one_current_crew_membership): no order to compile.
    return seats.select_related("crew")[:1]


# Every page of a crew asks it: building and compiling it cost more than running it.
SEAT = Compiled(_seat)


def ever_in_crew(*, crew: Crew, member_id: int) -> Self | None:
    """The Self with this id if they have been in the crew at any time, else None."""
    seat = CrewMembership.objects.filter(crew=crew, member_id=member_id).select_related("member")
    found = seat.first()
    return found.member if found else None


def crew_seats_of(*, self_: Self, congregation: Congregation) -> QuerySet[CrewMembership]:
    """The Self's current places in the congregation's crews and dyads, by crew name."""
    return (
        CrewMembership.objects.filter(member=self_, congregation=congregation)
        .current()
        .select_related("crew")
        .order_by("crew__name")
    )


def find_invitation_to(*, self_: Self, pk: int) -> CrewInvitation | None:
    """A crew invitation addressed to the Self."""
    return CrewInvitation.objects.filter(pk=pk, invitee=self_).select_related("crew").first()


def seated(self_: Self | int, crew_field: str, check: type[Exists] = Exists) -> Exists:
    """Whether the Self (or the Self of this id) is a current member of the crew the outer
    row's ``crew_field`` names: asked in the same query as the row itself, as ``check``
    asks it (microsolidarity.row_checks.RowCheck: row by row)."""
    return check(
        CrewMembership.objects.current().filter(crew_id=OuterRef(crew_field), member=self_)
    )


def find_members_meeting(*, congregation: Congregation, pk: int, self_: Self) -> Meeting | None:
    """The meeting, if the Self is a current member of its crew: one query for both."""
    found = MEMBERS_MEETING.objects(timezone.now(), [congregation.pk], [pk], [self_.pk])
    meeting: Meeting | None = found[0] if found else None
    if meeting is not None:
        meeting.congregation = meeting.crew.congregation = congregation
    return meeting


def _members_meeting(
    now: datetime, congregation_id: list[int], meeting_id: list[int], self_id: list[int]
) -> QuerySet[Meeting]:
    (congregation,), (pk,), (me,) = congregation_id, meeting_id, self_id
    meetings = Meeting.objects.filter(seated(me, "crew_id"), congregation_id=congregation, pk=pk)
    return meetings.select_related("crew", "logged_by").order_by()[:1]


# Every page and action of a meeting asks it (the meeting page, a tap, logging, rounds).
MEMBERS_MEETING = Compiled(_members_meeting)
