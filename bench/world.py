"""A synthetic world for the scale benchmark: congregations of Selves whose crews and dyads
have met monthly for five years, played every level of the game, had conflicts and started
ventures.

Every row is one the services would have written for the same history, ledger entries
included: the points from reciprocity.rules, the idempotency keys and reasons the services
use, and who was in a crew at each meeting. Meetings past the grace period are settled
(their −5 entries written, ``deductions_applied_at`` set), except the most recent month's,
which are left for the missed-meeting job, as a month's work to measure.

The same seed, shape and ``until`` date give the same rows, ids included.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models
from django.utils.text import slugify

from congregations.models import DEFAULT_PURPOSE, SETTING_BOUNDS, Congregation, Role
from crews.models import Kind, MeetingStatus
from reciprocity.models import ConflictStatus, LegalForm, OfferKind
from reciprocity.rules import (
    LEVELS,
    POINTS,
    Rule,
    consistency_points,
    entry_key,
    entry_reason,
    listening_round_awards,
    member_at,
    money_round_awards,
)

from .rows import (
    AttendanceRow,
    ConflictPartyRow,
    ConflictRow,
    CongregationRow,
    CoOwnerRow,
    CrewMembershipRow,
    CrewRow,
    LedgerRow,
    ListeningParticipantRow,
    ListeningRoundRow,
    MeetingRow,
    MembershipRow,
    MoneyOfferRow,
    MoneyRoundRow,
    SelfRow,
    VentureRow,
)

# Every Self signs in with this, so the throughput run can sign in as real members.
PASSWORD = "reciprocity-at-scale"

# How people behave, roughly: most come, a few meetings are cancelled or never logged.
PRESENT = 0.87
CANCELLED = 0.03
UNLOGGED = 0.02
EVERYONE_LISTENED = 0.9
ASKED = 0.7
MUTUAL_RESPECT = 0.8
CREW_CHANGES = 0.3  # the share of crews in which someone leaves and someone else joins

# Words for working together, from many places, to name the congregations.
CONGREGATION_NAMES = [
    "Kotahi", "Ubuntu", "Harambee", "Bayanihan", "Minga", "Tequio", "Dugnad", "Talkoot",
    "Gotong Royong", "Meitheal", "Naffir", "Mutirão", "Tawhiti", "Ayni", "Zadruga", "Imece",
]  # fmt: skip
FIRST = [
    "Ana", "Ben", "Chiara", "Dev", "Emeka", "Fern", "Gus", "Hana", "Ira", "Jo", "Kai", "Lena",
    "Maru", "Nia", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tui", "Uma", "Vik", "Wen", "Yara",
]  # fmt: skip
LAST = [
    "Moana", "Okafor", "Rossi", "Patel", "Eze", "Walker", "Lindqvist", "Sato", "Cohen", "Tui",
    "Müller", "Novak", "Ngata", "Silva", "Haddad", "Kowalski", "Nguyen", "Mensah", "Ortiz",
]  # fmt: skip
PAID_WORK = [
    "web developer", "nurse", "accountant", "teacher", "carpenter", "barista", "translator",
    "lawyer", "gardener", "electrician", "designer", "student", "bus driver", "cook",
]  # fmt: skip
MEANINGFUL_WORK = [
    "a community bike workshop", "growing food with neighbours", "a youth theatre",
    "tiny houses for first homes", "writing songs", "a language exchange", "a seed library",
    "solar for the street", "zines about mutual aid", "a food rescue crew", "a repair café",
]  # fmt: skip
CREW_WORDS = (
    ["Seed", "Solar", "Kitchen", "Garden", "River", "Workshop", "Harbour", "Orchard"],
    ["library", "street", "table", "circle", "commons", "collective", "guild", "hive"],
)
TIMEZONES = ["Europe/Amsterdam", "Pacific/Auckland", "America/New_York", "Africa/Nairobi", "UTC"]
PLACES = ["Around the kitchen table", "The community garden shed", "Video call", "The library"]
CONFLICT_TITLES = ["Who pays for the ladder", "The shared van", "Minutes nobody wrote", ""]
VENTURE_WORDS = ["Seed", "Tool", "Bread", "Bike", "Sun", "Repair"]


@dataclass(frozen=True)
class Shape:
    """How big the world is. Crews and dyads grow with the congregation: about 25 crews and
    20 dyads in one of 200."""

    congregations: int = 200
    members: int = 200
    months: int = 60

    @property
    def crews(self) -> int:
        return max(1, round(self.members / 8))

    @property
    def dyads(self) -> int:
        return max(1, round(self.members / 10))

    @property
    def conflicts(self) -> int:
        return max(2, self.members // 25)

    @property
    def ventures(self) -> int:
        return max(2, self.members // 60)


class Ids:
    """The next primary key of each table, counted from where the database left off."""

    def __init__(self, first: dict[type, int] | None = None) -> None:
        self._next: dict[type, int] = defaultdict(lambda: 1, first or {})

    def __call__(self, row: type) -> int:
        pk = self._next[row]
        self._next[row] = pk + 1
        return pk


Rows = dict[type, list[Any]]


@dataclass
class Seat:
    member: int
    joined_at: datetime
    left_at: datetime | None = None


@dataclass
class Circle:
    """A crew or dyad while its history is written."""

    id: int
    name: str
    kind: Kind
    timezone: str
    offset: int  # days before the end of each month's window that it usually meets
    seats: list[Seat] = field(default_factory=list)

    def members_at(self, moment: datetime) -> list[int]:
        return [s.member for s in self.seats if member_at(s.joined_at, s.left_at, moment)]


def _default(name: str) -> Any:
    """A congregation setting's default: the world's congregations keep the defaults."""
    field = Congregation._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field.get_default()


class World:
    def __init__(
        self, *, shape: Shape, seed: int, until: date, password: str, ids: Ids | None = None
    ) -> None:
        self.shape = shape
        self.seed = seed
        self.password = password
        self.ids = ids or Ids()
        self.until = datetime(until.year, until.month, until.day, tzinfo=UTC)
        self.grace = timedelta(hours=_default("meeting_grace_hours"))
        self.deadline = timedelta(days=_default("conflict_deadline_days"))

    def window_end(self, month: int) -> datetime:
        """The end of month ``month``'s 30-day window (0 is the oldest). The last ends four
        days before ``until``, so every meeting is past its grace period by then."""
        return self.until - timedelta(days=4 + 30 * (self.shape.months - 1 - month))

    def congregations(self) -> Iterator[Rows]:
        """The rows of one congregation at a time."""
        for index in range(self.shape.congregations):
            yield _Congregation(self, index).rows


class _Congregation:
    def __init__(self, world: World, index: int) -> None:
        self.world = world
        self.shape = world.shape
        self.ids = world.ids
        self.rng = random.Random(f"{world.seed}:{index}")
        self.rows: Rows = defaultdict(list)
        self.names: dict[int, str] = {}
        first_window = world.window_end(0) - timedelta(days=30)
        self.founded = first_window - timedelta(days=30 + self.rng.randint(0, 20))
        self.id = self.ids(CongregationRow)
        self.timezone = TIMEZONES[index % len(TIMEZONES)]
        word = CONGREGATION_NAMES[index % len(CONGREGATION_NAMES)]
        self.add(
            CongregationRow(
                id=self.id,
                name=f"{word} {index + 1}",
                slug=f"{slugify(word)}-{index + 1}",
                purpose=DEFAULT_PURPOSE,
                invitation_quota=_default("invitation_quota"),
                soft_size_threshold=_default("soft_size_threshold"),
                # Room for everyone, within the bound a facilitator could set.
                hard_size_cap=min(
                    max(_default("hard_size_cap"), self.shape.members),
                    SETTING_BOUNDS["hard_size_cap"][1],
                ),
                invitation_lifetime_days=_default("invitation_lifetime_days"),
                meeting_grace_hours=_default("meeting_grace_hours"),
                conflict_deadline_days=_default("conflict_deadline_days"),
                reminder_lead_hours=_default("reminder_lead_hours"),
                timezone=self.timezone,
                created_at=self.founded,
            )
        )
        self.members = self.selves(index)
        self.circles = self.crews(first_window)
        for circle in self.circles:
            self.meetings(circle)
        self.conflicts()
        self.ventures()

    def add(self, row: Any) -> None:
        self.rows[type(row)].append(row)

    def entry(
        self,
        *,
        member: int,
        rule: Rule,
        reason: str,
        key: str,
        occurred_at: datetime,
        recorded_at: datetime,
        recorded_by: int | None,
        crew: int | None,
        points: int | None = None,
        **source: int,
    ) -> None:
        """The ledger entry reciprocity.services.ledger.entry would make."""
        self.add(
            LedgerRow(
                id=self.ids(LedgerRow),
                congregation=self.id,
                member=member,
                crew=crew,
                level=int(LEVELS[rule]),
                rule=rule.value,
                points=POINTS[rule] if points is None else points,
                reason=reason[:300],
                occurred_at=occurred_at,
                recorded_at=recorded_at,
                recorded_by=recorded_by,
                idempotency_key=key,
                **source,
            )
        )

    def selves(self, index: int) -> list[int]:
        members = []
        for n in range(self.shape.members):
            pk = self.ids(SelfRow)
            name = f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"
            joined = self.founded + timedelta(hours=n)
            self.names[pk] = name
            self.add(
                SelfRow(
                    id=pk,
                    password=self.world.password,
                    is_superuser=False,
                    email=f"c{index + 1}.m{n + 1}@scale.example.org",
                    display_name=name,
                    timezone=self.timezone,
                    paid_work=self.rng.choice(PAID_WORK),
                    meaningful_work=self.rng.choice(MEANINGFUL_WORK),
                    reminders_enabled=True,
                    is_active=True,
                    is_staff=False,
                    date_joined=joined,
                )
            )
            self.add(
                MembershipRow(
                    id=self.ids(MembershipRow),
                    congregation=self.id,
                    member=pk,
                    role=Role.FACILITATOR.value if n < 2 else Role.MEMBER.value,
                    joined_at=joined,
                )
            )
            members.append(pk)
        return members

    def crews(self, first_window: datetime) -> list[Circle]:
        rng = self.rng
        crew_names = rng.sample(
            [f"{a} {b}" for a in CREW_WORDS[0] for b in CREW_WORDS[1]], self.shape.crews
        )
        taken = {name.lower() for name in crew_names}
        circles = []
        for n in range(self.shape.crews + self.shape.dyads):
            kind = Kind.CREW if n < self.shape.crews else Kind.DYAD
            people = rng.sample(self.members, rng.randint(3, 8) if kind == Kind.CREW else 2)
            if kind == Kind.CREW:
                name = crew_names[n]
            else:
                name = " & ".join(self.names[p].split()[0] for p in people)
                if name.lower() in taken:
                    name = f"{name} ({n})"
            taken.add(name.lower())
            formed = first_window - timedelta(days=rng.randint(1, 25), hours=rng.randint(0, 23))
            circle = Circle(
                id=self.ids(CrewRow),
                name=name,
                kind=kind,
                timezone=self.timezone if rng.random() < 0.9 else rng.choice(TIMEZONES),
                offset=rng.randint(0, 24),
                seats=[Seat(p, formed) for p in people],
            )
            self.add(
                CrewRow(
                    id=circle.id,
                    congregation=self.id,
                    kind=kind.value,
                    name=name,
                    purpose="" if kind == Kind.DYAD else f"{name}: sharing what we know",
                    timezone=circle.timezone,
                    proposed_by=people[0],
                    created_at=formed - timedelta(days=2),
                    formed_at=formed,
                )
            )
            if kind == Kind.CREW and self.shape.months >= 12 and rng.random() < CREW_CHANGES:
                self.change_seat(circle)
            for seat in circle.seats:
                self.add(
                    CrewMembershipRow(
                        id=self.ids(CrewMembershipRow),
                        congregation=self.id,
                        crew=circle.id,
                        member=seat.member,
                        joined_at=seat.joined_at,
                        left_at=seat.left_at,
                    )
                )
            circles.append(circle)
        return circles

    def change_seat(self, circle: Circle) -> None:
        """Someone leaves the crew between two meetings and someone else joins it."""
        month = self.rng.randint(6, self.shape.months - 6)
        left = self.world.window_end(month - 1) + timedelta(days=2)
        leaving = self.rng.choice(circle.seats)
        leaving.left_at = left
        current = {s.member for s in circle.seats}
        newcomer = self.rng.choice([m for m in self.members if m not in current])
        circle.seats.append(Seat(newcomer, left + timedelta(hours=1)))

    def meetings(self, circle: Circle) -> None:
        rng, world = self.rng, self.world
        zone = ZoneInfo(circle.timezone)
        attended: dict[int, int] = defaultdict(int)  # logged meetings each member came to
        for month in range(self.shape.months):
            usual_day = world.window_end(month) - timedelta(days=circle.offset)
            day = (usual_day - timedelta(days=rng.randint(0, 2))).date()
            starts = datetime(day.year, day.month, day.day, 19, tzinfo=zone)
            members = circle.members_at(starts)
            settled = month < self.shape.months - 1
            settled_at = starts + world.grace + timedelta(minutes=rng.randint(1, 59))
            label = f"{circle.name}, {starts.day} {starts:%B %Y}"
            meeting = self.ids(MeetingRow)
            roll = rng.random()
            status = (
                MeetingStatus.CANCELLED
                if roll < CANCELLED
                else MeetingStatus.SCHEDULED
                if roll < CANCELLED + UNLOGGED
                else MeetingStatus.LOGGED
            )
            present: list[int] = []
            logged_by = None
            logged_at = None
            if status == MeetingStatus.LOGGED:
                present = [m for m in members if rng.random() < PRESENT] or [rng.choice(members)]
                logged_by = rng.choice(present)
                logged_at = starts + timedelta(hours=2, minutes=rng.randint(0, 59))
            self.add(
                MeetingRow(
                    id=meeting,
                    congregation=self.id,
                    crew=circle.id,
                    starts_at=starts,
                    timezone=circle.timezone,
                    place=rng.choice(PLACES),
                    agenda="Check-in round, a money round, where we might go next",
                    status=status.value,
                    scheduled_by=rng.choice(members),
                    created_at=starts - timedelta(days=14),
                    cancelled_at=starts - timedelta(days=2)
                    if status == MeetingStatus.CANCELLED
                    else None,
                    cancelled_by=members[0] if status == MeetingStatus.CANCELLED else None,
                    logged_at=logged_at,
                    logged_by=logged_by,
                    reflections="A good month; a hard week for some of us." if logged_by else "",
                    envisioning="Share the tools, and ask for help sooner." if logged_by else "",
                    version=1 if status == MeetingStatus.SCHEDULED else 2,
                    deductions_applied_at=settled_at if settled else None,
                    # The crew was nudged to log it, half-way through the grace period.
                    log_nudge_sent_at=starts + world.grace / 2
                    if status == MeetingStatus.SCHEDULED
                    else None,
                    # A settled meeting's emails went out when it was settled.
                    deduction_emails_queued_at=settled_at if settled else None,
                )
            )
            if status == MeetingStatus.CANCELLED:
                continue
            here = set(present)
            for member in members:
                if logged_at is not None:
                    self.add(
                        AttendanceRow(
                            id=self.ids(AttendanceRow),
                            congregation=self.id,
                            meeting=meeting,
                            member=member,
                            present=member in here,
                        )
                    )
                if member in here:
                    assert logged_at is not None
                    attended[member] += 1
                    nth = attended[member]
                    self.entry(
                        member=member,
                        rule=Rule.ATTENDED,
                        points=consistency_points(nth),
                        reason=entry_reason(Rule.ATTENDED, nth=nth, meeting=label),
                        key=entry_key(Rule.ATTENDED, meeting, member),
                        occurred_at=starts,
                        recorded_at=logged_at,
                        recorded_by=logged_by,
                        crew=circle.id,
                        meeting=meeting,
                    )
                elif settled:
                    self.entry(
                        member=member,
                        rule=Rule.MISSED,
                        reason=entry_reason(Rule.MISSED, meeting=label),
                        key=entry_key(Rule.MISSED, meeting, member),
                        occurred_at=starts,
                        recorded_at=settled_at,
                        recorded_by=None,
                        crew=circle.id,
                        meeting=meeting,
                    )
            if logged_at is not None and logged_by is not None:
                at = logged_at + timedelta(minutes=10)
                self.listening_round(circle, meeting, starts, label, present, logged_by, at)
                focus_count = rng.choice([0, 1, 1, 2] if circle.kind == Kind.CREW else [0, 1])
                for focus in rng.sample(present, min(focus_count, len(present))):
                    self.money_round(circle, meeting, starts, label, present, focus, logged_by, at)

    def listening_round(
        self,
        circle: Circle,
        meeting: int,
        starts: datetime,
        label: str,
        present: list[int],
        recorded_by: int,
        at: datetime,
    ) -> None:
        if len(present) < 2:
            return
        everyone_listened = self.rng.random() < EVERYONE_LISTENED
        round_id = self.ids(ListeningRoundRow)
        self.add(ListeningRoundRow(round_id, self.id, meeting, everyone_listened, recorded_by, at))
        for person in present:
            seat = self.ids(ListeningParticipantRow)
            self.add(ListeningParticipantRow(seat, self.id, round_id, person))
        awards = listening_round_awards(participants=present, everyone_listened=everyone_listened)
        for person, rule in awards:
            self.entry(
                member=person,
                rule=rule,
                reason=entry_reason(rule, meeting=label),
                key=entry_key(rule, round_id, person),
                occurred_at=starts,
                recorded_at=at,
                recorded_by=recorded_by,
                crew=circle.id,
                meeting=meeting,
                listening_round=round_id,
            )

    def money_round(
        self,
        circle: Circle,
        meeting: int,
        starts: datetime,
        label: str,
        present: list[int],
        focus: int,
        recorded_by: int,
        at: datetime,
    ) -> None:
        rng = self.rng
        others = [p for p in present if p != focus]
        offerers = rng.sample(others, rng.randint(0, min(3, len(others))))
        asked = rng.random() < ASKED
        mutual_respect = rng.random() < MUTUAL_RESPECT
        round_id = self.ids(MoneyRoundRow)
        self.add(
            MoneyRoundRow(round_id, self.id, meeting, focus, asked, mutual_respect, recorded_by, at)
        )
        for person in offerers:
            for kind in rng.sample(OfferKind.values, rng.choice([1, 1, 1, 2])):
                self.add(MoneyOfferRow(self.ids(MoneyOfferRow), self.id, round_id, person, kind))
        awards = money_round_awards(
            focus=focus, asked=asked, offerers=offerers, mutual_respect=mutual_respect
        )
        for person, rule in awards:
            self.entry(
                member=person,
                rule=rule,
                reason=entry_reason(rule, meeting=label, focus=self.names[focus]),
                key=entry_key(rule, round_id, person),
                occurred_at=starts,
                recorded_at=at,
                recorded_by=recorded_by,
                crew=circle.id,
                meeting=meeting,
                money_round=round_id,
            )

    def conflicts(self) -> None:
        """Mostly resolved, some with no agreeable resolution, some left to expire, and a few
        still open, opened in the last weeks."""
        rng, world = self.rng, self.world
        crews = [c for c in self.circles if c.kind == Kind.CREW]
        for n in range(self.shape.conflicts):
            crew = rng.choice(crews)
            outcome = [
                ConflictStatus.RESOLVED,
                ConflictStatus.RESOLVED,
                ConflictStatus.RESOLVED,
                ConflictStatus.UNRESOLVED,
                ConflictStatus.EXPIRED,
                ConflictStatus.OPEN,
            ][n % 6]
            if outcome == ConflictStatus.OPEN:
                opened = world.until - timedelta(days=rng.randint(2, 20), hours=rng.randint(0, 23))
            else:
                month = rng.randint(0, max(0, self.shape.months - 3))
                opened = world.window_end(month) + timedelta(days=rng.randint(0, 3), hours=10)
            members = crew.members_at(opened)
            parties = rng.sample(members, min(len(members), rng.choice([2, 2, 3])))
            title = rng.choice(CONFLICT_TITLES)
            named = title or f"conflict in {crew.name}"
            deadline = opened + world.deadline
            closed_at: datetime | None = None
            closed_by = None
            confirmed: dict[int, datetime] = {}
            if outcome in (ConflictStatus.RESOLVED, ConflictStatus.UNRESOLVED):
                closed_at = opened + timedelta(days=rng.randint(2, 25))
            if outcome == ConflictStatus.RESOLVED:
                assert closed_at is not None
                confirmed = {p: closed_at - timedelta(hours=i) for i, p in enumerate(parties)}
            elif outcome == ConflictStatus.UNRESOLVED:
                closed_by = rng.choice(parties)
            elif outcome == ConflictStatus.EXPIRED:
                closed_at = deadline + timedelta(minutes=rng.randint(1, 59))
            conflict = self.ids(ConflictRow)
            self.add(
                ConflictRow(
                    id=conflict,
                    congregation=self.id,
                    crew=crew.id,
                    title=title,
                    opened_by=parties[0],
                    opened_at=opened,
                    deadline_at=deadline,
                    status=outcome.value,
                    closed_at=closed_at,
                    closed_by=closed_by,
                    # The warning goes out a week before the deadline.
                    warned_at=deadline - timedelta(days=7)
                    if outcome == ConflictStatus.EXPIRED
                    else None,
                )
            )
            for party in parties:
                self.add(
                    ConflictPartyRow(
                        self.ids(ConflictPartyRow), self.id, conflict, party, confirmed.get(party)
                    )
                )
            if closed_at is None:
                continue
            rule = {
                ConflictStatus.RESOLVED: Rule.RESOLVED,
                ConflictStatus.UNRESOLVED: Rule.UNRESOLVED,
                ConflictStatus.EXPIRED: Rule.EXPIRED,
            }[outcome]
            for party in parties:
                self.entry(
                    member=party,
                    rule=rule,
                    reason=entry_reason(rule, conflict=named),
                    key=entry_key(rule, conflict, party),
                    occurred_at=closed_at,
                    recorded_at=closed_at,
                    recorded_by=closed_by,
                    crew=crew.id,
                    conflict=conflict,
                )

    def ventures(self) -> None:
        """Ventures whose co-owners have all confirmed (+100 each), and the second of every
        four still waiting for someone's confirmation."""
        rng, world = self.rng, self.world
        for n in range(self.shape.ventures):
            co_owners = rng.sample(self.members, rng.randint(2, 4))
            legal_form = rng.choice(LegalForm.values)
            name = f"{rng.choice(VENTURE_WORDS)} {LegalForm(legal_form).label} {n + 1}"
            registered = world.window_end(rng.randint(0, self.shape.months - 2))
            waiting = n % 4 == 1
            confirmations = {
                owner: registered + timedelta(days=i + 1)
                for i, owner in enumerate(co_owners)
                if not (waiting and i == len(co_owners) - 1)
            }
            confirmed_at = None if waiting else max(confirmations.values())
            venture = self.ids(VentureRow)
            self.add(
                VentureRow(
                    venture, self.id, name, legal_form, co_owners[0], registered, confirmed_at
                )
            )
            for owner in co_owners:
                self.add(
                    CoOwnerRow(
                        self.ids(CoOwnerRow), self.id, venture, owner, confirmations.get(owner)
                    )
                )
            if confirmed_at is None:
                continue
            for owner in co_owners:
                self.entry(
                    member=owner,
                    rule=Rule.CO_OWNED,
                    reason=entry_reason(
                        Rule.CO_OWNED, venture=name, legal_form=LegalForm(legal_form).label
                    ),
                    key=entry_key(Rule.CO_OWNED, venture, owner),
                    occurred_at=confirmed_at,
                    recorded_at=confirmed_at,
                    recorded_by=None,
                    crew=None,
                    venture=venture,
                )
