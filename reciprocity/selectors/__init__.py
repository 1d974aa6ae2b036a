"""Read-only queries about the game: scores, breakdowns and histories.

Totals are summed by the database; Python only arranges the few aggregated rows, so each
page runs the same handful of queries whatever the size of the ledger.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from congregations.models import Congregation, Self
from congregations.roster import roster_version
from crews.models import Attendance, Crew, CrewMembership, Meeting
from crews.selectors import seated
from microsolidarity.compiled import Compiled
from microsolidarity.row_checks import RowCheck

from ..models import (
    Conflict,
    ConflictParty,
    CoOwner,
    Dispute,
    LedgerEntry,
    ListeningParticipant,
    ListeningRound,
    MoneyOffer,
    MoneyRound,
    OfferKind,
    Venture,
)
from ..rules import CREW_LEVELS, DISPUTE_WITHIN, Level, Rule


def crew_scores(*, crew: Crew) -> dict[int, int]:
    """{self_id: points earned in this crew} for every current member, 0 included. A
    departed member's entries stay in the ledger and in the crew's total."""
    scores = dict.fromkeys(
        CrewMembership.objects.filter(crew=crew).current().values_list("member_id", flat=True), 0
    )
    earned = (
        LedgerEntry.objects.filter(crew=crew, member_id__in=list(scores))
        .values("member_id")
        .annotate(points=Sum("points"))
        .values_list("member_id", "points")
    )
    scores.update(earned)
    return scores


def member_score(*, self_: Self, congregation: Congregation) -> int:
    """A Self's total in the congregation: every crew's points and level 5's."""
    total = LedgerEntry.objects.filter(member=self_, congregation=congregation).aggregate(
        points=Sum("points")
    )["points"]
    return total or 0


# The crew scores page


@dataclass
class BreakdownRow:
    member: Self
    current: bool
    by_level: dict[int, int]
    total: int

    def cells(self) -> list[tuple[int, int]]:
        return [(level, self.by_level.get(level, 0)) for level in CREW_LEVELS]


@dataclass
class Breakdown:
    """A crew's points, members × levels. Rows: every current member (0 included), then
    anyone who has left but earned points here, whose points stay in the crew's total."""

    rows: list[BreakdownRow]
    by_level: dict[int, int]
    total: int

    def level_totals(self) -> list[tuple[int, int]]:
        return [(level, self.by_level.get(level, 0)) for level in CREW_LEVELS]


def crew_breakdown(*, crew: Crew) -> Breakdown:
    scores = crew_scores(crew=crew)
    cells: dict[int, dict[int, int]] = defaultdict(dict)
    for member_id, level, points in (
        LedgerEntry.objects.filter(crew=crew)
        .values("member_id", "level")
        .annotate(points=Sum("points"))
        .values_list("member_id", "level", "points")
    ):
        cells[member_id][level] = points
    people = Self.objects.in_bulk(set(scores) | set(cells))
    rows = [
        BreakdownRow(people[pk], pk in scores, cells[pk], sum(cells[pk].values())) for pk in people
    ]
    rows.sort(key=lambda row: (not row.current, row.member.display_name.lower()))
    by_level: dict[int, int] = defaultdict(int)
    for row in rows:
        for level, points in row.by_level.items():
            by_level[level] += points
    return Breakdown(rows, dict(by_level), sum(by_level.values()))


@dataclass(frozen=True)
class Month:
    start: date
    earned: int  # points gained or lost that month
    total: int  # the running total at the month's end


def crew_history(
    *, crew: Crew, until: datetime | None = None, member_id: int | None = None
) -> list[Month]:
    """The crew's score month by month, in the crew's timezone, from its first entry's
    month to ``until``'s (now by default); months without entries are included. With
    ``member_id``, that member's points in the crew alone."""
    tz = crew.timezone
    until = until or timezone.now()
    found = LedgerEntry.objects.filter(crew=crew)
    if member_id is not None:
        found = found.filter(member_id=member_id)
    earned = dict(
        found.annotate(month=TruncMonth("occurred_at", tzinfo=tz))
        .values("month")
        .annotate(points=Sum("points"))
        .values_list("month", "points")
    )
    if not earned:
        return []
    by_month = {moment.date(): points for moment, points in earned.items()}
    last = max(max(by_month), until.astimezone(tz).date().replace(day=1))
    months, total = [], 0
    for start in _months(min(by_month), last):
        total += by_month.get(start, 0)
        months.append(Month(start, by_month.get(start, 0), total))
    return months


def _months(first: date, last: date) -> Iterator[date]:
    month = first
    while month <= last:
        yield month
        month = (month + timedelta(days=32)).replace(day=1)


def month_bounds(month: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=tz)
    following = (month + timedelta(days=32)).replace(day=1)
    return start, datetime(following.year, following.month, 1, tzinfo=tz)


# Entries behind a number


def entries(
    *,
    congregation: Congregation,
    crew: Crew | None = None,
    member_id: int | None = None,
    crew_id: int | None = None,
    level: int | None = None,
    month: date | None = None,
    tz: ZoneInfo | None = None,
) -> QuerySet[LedgerEntry]:
    """Ledger entries, newest first, with what a list shows of each: who, who recorded it,
    the entry it corrects, the correction it received, and its dispute."""
    found = LedgerEntry.objects.filter(congregation=congregation)
    if crew is not None:
        found = found.filter(crew=crew)
        tz = tz or crew.timezone
    if member_id is not None:
        found = found.filter(member_id=member_id)
    if crew_id is not None:
        found = found.filter(crew_id=crew_id)
    if level is not None:
        found = found.filter(level=level)
    if month is not None:
        start, end = month_bounds(month, tz or ZoneInfo("UTC"))
        found = found.filter(occurred_at__gte=start, occurred_at__lt=end)
    return (
        found.select_related(
            "member",
            "crew",
            "meeting",
            "recorded_by",
            "reverses__meeting",
            "reverses__crew",
            "reversed_by",
            "reversed_by__recorded_by",
            "dispute__confirmed_by",
        )
        .annotate(witnessed=witnessed())
        .order_by("-occurred_at", "-id")
    )


def export_rows(entries: QuerySet[LedgerEntry]) -> Iterator[tuple]:
    """What a spreadsheet export writes, oldest first, with the clocks that date each
    entry and the one it reverses (rules.entry_day), read by one query (no server-side
    cursor, which PgBouncer's transaction pooling forbids: see settings)."""
    return (
        entries.order_by("occurred_at", "id")
        .values_list(
            "occurred_at",
            "meeting__timezone",
            "crew__timezone",
            "member__display_name",
            "crew__name",
            "level",
            "rule",
            "points",
            "reason",
            "recorded_by__display_name",
            "reverses__occurred_at",
            "reverses__meeting__timezone",
            "reverses__points",
            "reverses__reason",
            # What each reason names, so the sheet says it in the reader's language.
            "reason_parts",
            "reverses__rule",
            "reverses__reason_parts",
        )
        .iterator(chunk_size=2000)
    )


# A member's own page


@dataclass
class CrewPoints:
    crew_id: int
    name: str
    points: int
    current: bool


@dataclass
class MemberBreakdown:
    total: int
    crews: list[CrewPoints]
    by_level: dict[int, int] = field(default_factory=dict)

    def levels(self) -> list[tuple[Level, int]]:
        return [(level, self.by_level.get(level, 0)) for level in Level]

    @property
    def co_owners(self) -> int:
        return self.by_level.get(Level.CO_OWNERS, 0)


def member_breakdown(*, self_: Self, congregation: Congregation) -> MemberBreakdown:
    """A Self's points in the congregation: in total, per crew (any they belong to, 0
    included, and any they left with points) and per level. Two queries: the sums by crew
    and level together, then the crews they are in or have points in."""
    now, whose = timezone.now(), ([self_.pk], [congregation.pk])
    per_crew: dict[int, int] = {}
    by_level: dict[int, int] = {}
    for crew_id, level, points in SUMS.rows(now, *whose):
        if crew_id is not None:
            per_crew[crew_id] = per_crew.get(crew_id, 0) + points
        by_level[level] = by_level.get(level, 0) + points
    crews = [
        CrewPoints(pk, name, per_crew.get(pk, 0), current)
        for pk, name, current in CREWS_WITH_POINTS.rows(now, *whose, list(per_crew))
    ]
    return MemberBreakdown(sum(by_level.values()), crews, by_level)


def _sums(now: datetime, self_id: list[int], congregation_id: list[int]) -> QuerySet[Any]:
    (me,), (congregation,) = self_id, congregation_id
    return (
        LedgerEntry.objects.filter(member_id=me, congregation_id=congregation)
        .values("crew_id", "level")
        .annotate(points=Sum("points"))
        .values_list("crew_id", "level", "points")
    )


def _crews_with_points(
    now: datetime, self_id: list[int], congregation_id: list[int], with_points: list[int]
) -> QuerySet[Any]:
    (me,), (congregation,) = self_id, congregation_id
    return (
        Crew.objects.filter(congregation_id=congregation)
        .annotate(current=seated(me, "pk"))
        .filter(Q(current=True) | Q(pk__in=with_points))
        .order_by("name")
        .values_list("pk", "name", "current")
    )


# My page reads them on every visit: building and compiling them cost more than running
# them.
SUMS = Compiled(_sums)
CREWS_WITH_POINTS = Compiled(_crews_with_points)


# Disputed deductions


def deductions_to_dispute(
    *, self_: Self, congregation: Congregation, now: datetime | None = None
) -> list[LedgerEntry]:
    """A Self's missed-meeting deductions that may still be disputed or whose dispute is
    under way, newest first, with the dispute's state."""
    return TO_DISPUTE.objects(now or timezone.now(), [self_.pk], [congregation.pk])


def _to_dispute(
    now: datetime, self_id: list[int], congregation_id: list[int]
) -> QuerySet[LedgerEntry]:
    (me,), (congregation,) = self_id, congregation_id
    waiting = Q(dispute__confirmed_at__isnull=True, dispute__withdrawn_at__isnull=True)
    return (
        LedgerEntry.objects.filter(congregation_id=congregation, member_id=me, rule=Rule.MISSED)
        .filter(Q(recorded_at__gte=now - DISPUTE_WITHIN) | Q(dispute__isnull=False) & waiting)
        # Only what my page shows of each (reciprocity/_dispute.html): a join of every
        # relation of the entries list cost more to plan than to run.
        .select_related("reversed_by", "dispute__confirmed_by")
        .only(*DISPUTE_COLUMNS)
        .annotate(witnessed=witnessed())
        .order_by("-occurred_at", "-id")
    )


# My page reads it on every visit too (it checks each row for a witness).
TO_DISPUTE = Compiled(_to_dispute)

DISPUTE_COLUMNS = (
    "member_id",
    "crew_id",
    "meeting_id",
    "rule",
    "points",
    "reason",
    "reason_parts",
    "occurred_at",
    "recorded_at",
    "reversed_by__reverses_id",
    "dispute__entry_id",
    "dispute__confirmed_at",
    "dispute__withdrawn_at",
    "dispute__confirmed_by__display_name",
)


def dispute_witnesses(*, entry: LedgerEntry) -> QuerySet[Self]:
    """Who may confirm that the member of a missed-meeting ``entry`` was there: the
    crew-mates marked present at that meeting who are still in the crew."""
    return witnesses_of(meeting=entry.meeting, crew=entry.crew, member=entry.member_id).order_by(
        "display_name"
    )


def witnessed() -> Exists:
    """Whether a crew-mate could confirm a dispute of a ledger entry (one of a missed
    meeting): "I was there" is offered only then."""
    return has_witness(
        meeting=OuterRef("meeting_id"), crew_id=OuterRef("crew_id"), member=OuterRef("member_id")
    )


def has_witness(*, meeting: Any, crew_id: OuterRef, member: Any) -> Exists:
    """Whether anyone but ``member`` was marked present at ``meeting`` and is still in the
    crew of the outer row's ``crew_id``: witnesses_of as an Exists over attendance alone,
    which PostgreSQL plans in half the time of the join through Self, and checked for each
    of the few entries it is asked of rather than joined (it runs on every home page, in
    what waits for a Self, and on my page)."""
    still_in_crew = CrewMembership.objects.filter(
        crew_id=OuterRef(crew_id), member_id=OuterRef("member_id"), left_at__isnull=True
    )
    return RowCheck(
        Attendance.objects.filter(Exists(still_in_crew), meeting=meeting, present=True).exclude(
            member=member
        )
    )


def witnesses_of(*, meeting: Any, crew: Any, member: Any) -> QuerySet[Self]:
    """Who was marked present at ``meeting`` and is still in ``crew``, ``member`` aside
    (instances, ids or outer references)."""
    return Self.objects.filter(
        attendances__meeting=meeting,
        attendances__present=True,
        crew_memberships__crew=crew,
        crew_memberships__left_at__isnull=True,
    ).exclude(pk=member)


def dispute_in(*, congregation: Congregation, pk: int) -> Dispute | None:
    return (
        Dispute.objects.filter(congregation=congregation, pk=pk)
        .select_related("disputed_by", "confirmed_by", "entry__crew", "entry__meeting")
        .first()
    )


# Rounds at a meeting


@dataclass
class RecordedRound:
    """A listening or money round with the points each person earned from it: for a
    listening round, the names of those in the circle; for a money round, each offerer's
    name with the kinds of help they offered (none named: an offer of something)."""

    round: ListeningRound | MoneyRound
    points: list[tuple[str, int]]
    circle: list[str] = field(default_factory=list)
    offers: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def is_listening(self) -> bool:
        return isinstance(self.round, ListeningRound)


def present_at(*, meeting: Meeting) -> QuerySet[Self]:
    return Self.objects.filter(attendances__meeting=meeting, attendances__present=True).order_by(
        "display_name"
    )


def recorded_rounds(*, meeting: Meeting) -> list[RecordedRound]:
    """The rounds recorded at the meeting, its listening round first, then its money
    rounds as they were recorded: two queries for a meeting with none, five with both."""
    now, meeting_id = timezone.now(), [meeting.pk]
    listening = LISTENING_ROUNDS.objects(now, meeting_id)
    money = MONEY_ROUNDS.objects(now, meeting_id)
    if not (listening or money):
        return []
    earned: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
    for listening_id, money_id, _, name, points in ROUND_POINTS.rows(now, meeting_id):
        key = ("listening", listening_id) if listening_id else ("money", money_id)
        earned[key].append((name, points))
    circles: dict[int, list[str]] = defaultdict(list)
    for round_id, name in CIRCLES.rows(now, meeting_id) if listening else []:
        circles[round_id].append(name)
    offers: dict[int, dict[int, tuple[str, list[str]]]] = defaultdict(dict)
    for round_id, offerer_id, name, kind in OFFERS.rows(now, meeting_id) if money else []:
        _, kinds = offers[round_id].setdefault(offerer_id, (name, []))
        if kind:
            # A kind the choices no longer name is shown as stored, as get_kind_display would.
            kinds.append(str(KIND_LABELS.get(kind, kind)))
    return [
        RecordedRound(r, earned[("listening", r.pk)], circle=circles[r.pk]) for r in listening
    ] + [
        RecordedRound(r, earned[("money", r.pk)], offers=list(offers[r.pk].values())) for r in money
    ]


def _listening_rounds(now: datetime, meeting_id: list[int]) -> QuerySet[ListeningRound]:
    return ListeningRound.objects.filter(meeting_id=meeting_id[0]).order_by("recorded_at", "id")


def _money_rounds(now: datetime, meeting_id: list[int]) -> QuerySet[MoneyRound]:
    rounds = MoneyRound.objects.filter(meeting_id=meeting_id[0]).select_related("focus")
    return rounds.order_by("recorded_at", "id")


def _round_points(now: datetime, meeting_id: list[int]) -> QuerySet[Any]:
    # Each person's points, by the person: two people of one name are two lines.
    return (
        LedgerEntry.objects.filter(meeting_id=meeting_id[0])
        .filter(Q(listening_round__isnull=False) | Q(money_round__isnull=False))
        .values("listening_round_id", "money_round_id", "member_id", "member__display_name")
        .annotate(points=Sum("points"))
        .order_by("member__display_name", "member_id")
        .values_list(
            "listening_round_id", "money_round_id", "member_id", "member__display_name", "points"
        )
    )


def _circles(now: datetime, meeting_id: list[int]) -> QuerySet[Any]:
    return (
        ListeningParticipant.objects.filter(round__meeting_id=meeting_id[0])
        .order_by("participant__display_name", "participant_id")
        .values_list("round_id", "participant__display_name")
    )


def _offers(now: datetime, meeting_id: list[int]) -> QuerySet[Any]:
    return (
        MoneyOffer.objects.filter(round__meeting_id=meeting_id[0])
        .order_by("offerer__display_name", "offerer_id", "kind")
        .values_list("round_id", "offerer_id", "offerer__display_name", "kind")
    )


def _rounds_newest(now: datetime, meeting_id: list[int]) -> QuerySet[Any]:
    def newest(model: type[ListeningRound | MoneyRound]) -> Subquery:
        rows = model.objects.filter(meeting_id=meeting_id[0]).order_by("-id").values("id")
        return Subquery(rows[:1])

    return Meeting.objects.filter(pk=meeting_id[0]).values_list(
        newest(ListeningRound), newest(MoneyRound)
    )


KIND_LABELS = dict(OfferKind.choices)

# The meeting page shows them to every member who opens it: building and compiling five
# queries cost more than running them.
LISTENING_ROUNDS = Compiled(_listening_rounds)
MONEY_ROUNDS = Compiled(_money_rounds)
ROUND_POINTS = Compiled(_round_points)
CIRCLES = Compiled(_circles)
OFFERS = Compiled(_offers)
ROUNDS_NEWEST = Compiled(_rounds_newest)


def meeting_rounds_version(*, meeting: Meeting) -> str:
    """Changes whenever recorded_rounds(meeting) would show otherwise, in one query: a round
    recorded (its circle, its offers and the points it earned are written with it, and
    never changed: a correction of the points names no round), or a name changed (the
    roster's version)."""
    (newest,) = ROUNDS_NEWEST.rows(timezone.now(), [meeting.pk])
    return ".".join([*map(str, newest), roster_version(meeting.congregation_id)])


# Conflicts and ventures


def conflicts_of(*, self_: Self, congregation: Congregation) -> QuerySet[ConflictParty]:
    """The Self's seats in the congregation's conflicts, newest first."""
    return (
        ConflictParty.objects.filter(congregation=congregation, party=self_)
        .select_related("conflict", "conflict__crew")
        .order_by("-conflict__opened_at")
    )


def conflict_for_party(*, pk: int, self_: Self, congregation: Congregation) -> Conflict | None:
    """The conflict, with its parties, if the Self is one of them; None otherwise, so
    whether it exists at all stays private to its parties."""
    return (
        Conflict.objects.filter(congregation=congregation, pk=pk, parties__party=self_)
        .select_related("crew")
        .prefetch_related(
            Prefetch(
                "parties",
                queryset=ConflictParty.objects.select_related("party").order_by(
                    "party__display_name"
                ),
            )
        )
        .first()
    )


def ventures(*, congregation: Congregation) -> QuerySet[Venture]:
    """The congregation's ventures, newest first, each with its co-owners."""
    return (
        Venture.objects.filter(congregation=congregation)
        .select_related("registered_by")
        .prefetch_related(
            Prefetch(
                "co_owners",
                queryset=CoOwner.objects.select_related("co_owner").order_by(
                    "co_owner__display_name"
                ),
            )
        )
    )


def crew_scores_version(*, crew: Crew) -> str:
    """Changes whenever the crew's scores page would: the ledger is append-only, so its
    newest entry marks every change of points; the roster's version marks who is in it."""
    newest = LedgerEntry.objects.filter(crew=crew).aggregate(newest=Max("id"))["newest"]
    return f"{newest}.{roster_version(crew.congregation_id)}.{crew.timezone}"
