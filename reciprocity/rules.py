"""The Reciprocity Game's rules, from the proposal, in one place: its levels and rules, the
numbers, the wording, and pure functions deciding who earns what. The services, the
missed-meeting job's SQL and the benchmark's generator all decide through them.

Nothing here touches the database (no models imported): a person is whatever the caller
counts people in, a Self in the services, an id in the generator."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol, TypeVar

# The choices' base classes only: what a field stores, not a model.
from django.db.models.enums import IntegerChoices, TextChoices

Person = TypeVar("Person")


class Level(IntegerChoices):
    LISTENING = 1, "Listening"
    MONEY = 2, "Money"
    CONSISTENCY = 3, "Consistency"
    CONFLICT = 4, "Conflict"
    CO_OWNERS = 5, "Co-owners"


class Rule(TextChoices):
    """Which rule of the game produced an entry; POINTS below holds the points."""

    LISTENED = "listened", "everyone listened to everyone"
    ASKED = "asked", "asked for something they need"
    OFFERED = "offered", "offered the focus person something"
    MUTUAL_RESPECT = "mutual_respect", "talked and listened with mutual respect"
    ATTENDED = "attended", "met with their crew"
    MISSED = "missed", "missed a meeting"
    RESOLVED = "resolved", "resolved a conflict"
    UNRESOLVED = "unresolved", "found no agreeable resolution"
    EXPIRED = "expired", "left a conflict open past its deadline"
    CO_OWNED = "co_owned", "shares legal ownership of a venture"
    REVERSAL = "reversal", "correction"


# An entry's reason, as a member reads it: the ledger's column is this long.
REASON_LENGTH = 300

POINTS: dict[Rule, int] = {
    Rule.LISTENED: 1,  # each participant, when everyone listened to everyone
    Rule.ASKED: 5,  # the focus person, once per round
    Rule.OFFERED: 5,  # each offerer, once per round however many offers
    Rule.MUTUAL_RESPECT: 1,  # the focus person and each offerer, when there was an offer
    Rule.MISSED: -5,  # each member of the crew at the time who was not there
    Rule.RESOLVED: 10,  # each party, once all have confirmed
    Rule.UNRESOLVED: -20,  # each party
    Rule.EXPIRED: -20,  # each party, when still open past the deadline
    Rule.CO_OWNED: 100,  # each co-owner, once all have confirmed
}

LEVELS: dict[Rule, Level] = {
    Rule.LISTENED: Level.LISTENING,
    Rule.ASKED: Level.MONEY,
    Rule.OFFERED: Level.MONEY,
    Rule.MUTUAL_RESPECT: Level.MONEY,
    Rule.ATTENDED: Level.CONSISTENCY,
    Rule.MISSED: Level.CONSISTENCY,
    Rule.RESOLVED: Level.CONFLICT,
    Rule.UNRESOLVED: Level.CONFLICT,
    Rule.EXPIRED: Level.CONFLICT,
    Rule.CO_OWNED: Level.CO_OWNERS,
}

# Crew points are earned on these levels; co-owners' points belong to the congregation.
CREW_LEVELS = [Level.LISTENING, Level.MONEY, Level.CONSISTENCY, Level.CONFLICT]


def signed(points: int | None) -> str:
    """+5, 0 or −5, with a true minus sign."""
    points = points or 0
    if points < 0:
        return f"\u2212{-points}"
    return f"+{points}" if points else "0"


# Level 1 and level 2: what a round at a logged meeting earns.


def listening_round_awards(
    *, participants: Sequence[Person], everyone_listened: bool
) -> list[tuple[Person, Rule]]:
    """+1 to each participant when everyone listened to everyone; nothing otherwise (the
    round is still recorded)."""
    return [(person, Rule.LISTENED) for person in participants] if everyone_listened else []


def money_round_awards(
    *, focus: Person, asked: bool, offerers: Sequence[Person], mutual_respect: bool
) -> list[tuple[Person, Rule]]:
    """The focus person earns for asking, once per round; each offerer for offering, once
    per round however many offers; and, held with mutual respect and positive regard with
    at least one offer, the focus person and each offerer once more. ``offerers`` are
    distinct and exclude the focus person (the service refuses otherwise)."""
    awards = [(focus, Rule.ASKED)] if asked else []
    awards += [(person, Rule.OFFERED) for person in offerers]
    if mutual_respect and offerers:
        awards += [(person, Rule.MUTUAL_RESPECT) for person in [focus, *offerers]]
    return awards


# Level 3: consistency.

# The rules card shows the points for these meetings: the first, the second, each later.
CONSISTENCY_STEPS = (1, 2, 3)


def consistency_points(nth: int) -> int:
    """Points for attending one's n-th logged meeting in a crew: 1, then 3, then 5 each.
    The n-th counts the crew's logged meetings the member attended, this one included;
    missing one does not reset it."""
    if nth < 1:
        raise ValueError("Meetings are counted from 1.")
    return {1: 1, 2: 3}.get(nth, 5)


def member_at(joined_at: datetime, left_at: datetime | None, moment: datetime) -> bool:
    """Whether a crew membership from ``joined_at`` until ``left_at`` (None: still in it)
    counts at ``moment``, a meeting's start: joined by then, not yet left. Who joined
    exactly at the start was there; who left exactly at the start was not.

    The same condition is spelled twice more, where Python cannot run it:
    ``crews.models.CrewMembershipQuerySet.at`` (the ORM) and the join in
    ``reciprocity.services.consistency.MISSED_SQL`` (the missed-meeting job);
    tests/reciprocity/test_rules.py holds all three to the same edges."""
    return joined_at <= moment and (left_at is None or left_at > moment)


# A meeting is either missed or attended, never both. Once its grace period has passed the
# missed-meeting job settles it (Meeting.deductions_applied_at): each member not marked
# present loses 5, and from then on the meeting can no longer be logged nor its attendance
# tapped, even if the congregation later lengthens its grace period, so nobody both loses 5
# for missing it and earns points for coming. A member who was there but not marked present
# disputes their −5 (services.dispute_deduction); a crew-mate marked present confirms, and
# the reversing entry names both: consent, no facilitator needed.
SETTLED = (
    "This meeting was settled as missed on {day}, so it can no longer be logged. "
    "A member who was there can dispute their {points} from My scores, and a crew-mate "
    "who was there confirms it."
)


class Settled(Protocol):
    """What settled_notice reads of a meeting."""

    @property
    def deductions_applied_at(self) -> datetime | None: ...

    @property
    def timezone(self) -> tzinfo: ...


def settled_notice(meeting: Settled) -> str:
    """Why a settled meeting cannot be logged, dated on the meeting's own clock."""
    assert meeting.deductions_applied_at is not None, "only a settled meeting says so"
    day = meeting.deductions_applied_at.astimezone(meeting.timezone)
    return SETTLED.format(day=f"{day.day} {day:%B %Y}", points=signed(POINTS[Rule.MISSED]))


# A missed-meeting −5 may be disputed this long after it was written: a crew-mate who
# was there still remembers. (A dispute's service and the "Waiting for you" list read it.)
DISPUTE_WITHIN = timedelta(days=30)


# When a Self leaves a crew or the congregation (they left, were removed, or left for good),
# nothing waits on them any more. The services that end a membership settle it at once
# (reciprocity.services.departures), and the congregation's History says what was withdrawn.
WHEN_SOMEONE_LEAVES = (
    "When someone leaves a crew or the congregation, nothing waits on them. Their "
    "unanswered crew invitations, and the open ones they sent, are withdrawn. They leave "
    "each open conflict of theirs in that crew (in every crew, when they leave the "
    "congregation): if fewer than two parties remain, it closes without points; if everyone "
    "who remains has confirmed, it is resolved, +10 each; otherwise it waits for those who "
    "remain, and only they can lose 20 at its deadline. Nobody is charged for a partner who "
    "left. (A conflict already past its deadline stays as it was: its −20 applies.) When "
    "they leave the congregation, a venture they had not yet confirmed goes on "
    "without them: it scores +100 for each co-owner who remains once two or more remain and "
    "all have confirmed, and it is withdrawn, never to score, when fewer than two remain "
    "(one who had confirmed stays a co-owner). A dispute they made, or one that waited only "
    "for crew-mates who have all left, is withdrawn. They get no more email from that "
    "congregation."
)


def disputable_until(written_at: datetime) -> datetime:
    """The last moment a −5 written at ``written_at`` may be disputed."""
    return written_at + DISPUTE_WITHIN


# How each rule's entry names itself: the prefix of its idempotency key and the reason a
# member reads. Every −20 for a conflict shares one key prefix, so a party loses 20 once
# however the conflict closed.
WORDING: dict[Rule, tuple[str, str]] = {
    Rule.LISTENED: ("listened", "Everyone listened to everyone: {meeting}"),
    Rule.ASKED: ("asked", "Asked for something they need: {meeting}"),
    Rule.OFFERED: ("offered", "Offered {focus} something: {meeting}"),
    Rule.MUTUAL_RESPECT: ("mutual_respect", "A money round held with mutual respect: {meeting}"),
    Rule.ATTENDED: ("attended", "Meeting number {nth} with the crew: {meeting}"),
    Rule.MISSED: ("missed", "Missed the meeting: {meeting}"),
    Rule.RESOLVED: ("conflict-resolved", "Resolved together: {conflict}"),
    Rule.UNRESOLVED: ("conflict-lost", "No agreeable resolution: {conflict}"),
    Rule.EXPIRED: ("conflict-lost", "Still open past its deadline: {conflict}"),
    Rule.CO_OWNED: ("co-owned", "Co-owner of {venture} ({legal_form})"),
}


def entry_key(rule: Rule, source_id: int, member_id: int) -> str:
    """The idempotency key of ``rule``'s entry for one member and what it came from."""
    return f"{WORDING[rule][0]}:{source_id}:{member_id}"


def entry_reason(rule: Rule, **parts: object) -> str:
    return WORDING[rule][1].format(**parts)[:REASON_LENGTH]


def entry_day(occurred_at: datetime, *clocks: tzinfo | None) -> date:
    """The day an entry happened, on the first of ``clocks`` it has: its meeting's, on
    which its reason names the day, then its crew's, then the reader's. A list and a
    spreadsheet then show the day its reason names."""
    return occurred_at.astimezone(next(zone for zone in clocks if zone is not None)).date()


# A correction in plain words, naming the entry it reverses: "Reversed Fern Walker’s +1 for
# “Everyone listened to everyone: …”: wrong meeting".
CORRECTION = "Reversed {member}’s {points} for “{corrected}”: {why}"


def correction_reason(corrected: str, why: str, *, member: str, points: int) -> str:
    """How a correction names the entry it reverses and why. What is shortened to fit is
    the quoted reason, which the entry itself keeps whole, then a very long name; never the
    why."""
    room = REASON_LENGTH - len(
        CORRECTION.format(member="", points=signed(points), corrected="", why=why)
    )
    member = _fit(member, room - 1)  # at least the quote's "…" stays
    corrected = _fit(corrected, room - len(member))
    return CORRECTION.format(member=member, points=signed(points), corrected=corrected, why=why)


def _fit(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(room - 1, 0)].rstrip() + "…"


# Why a disputed −5 is reversed: the one who was there and the crew-mate who confirmed.
DISPUTED = "{disputer} was at the meeting, as {confirmer}, who was there too, confirmed"


def dispute_reason(
    corrected: str, *, member: str, points: int, disputer: str, confirmer: str
) -> str:
    why = DISPUTED.format(disputer=disputer, confirmer=confirmer)
    return correction_reason(corrected, why, member=member, points=points)
