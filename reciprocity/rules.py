"""The Reciprocity Game's numbers, from the proposal, in one place."""

from __future__ import annotations

from crews.models import Meeting

from .models import Level, Rule

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


# A meeting is either missed or attended, never both. Once its grace period has passed the
# missed-meeting job settles it (Meeting.deductions_applied_at): each member not marked
# present loses 5, and from then on the meeting can no longer be logged nor its attendance
# tapped, so nobody both loses 5 for missing it and earns points for coming. A member who
# was there but not marked present asks a facilitator, who corrects their −5 with a
# reversing entry (services.ledger.reverse_entry): nobody corrects their own points.
SETTLED = (
    "This meeting was settled as missed on {day}, so it can no longer be logged. "
    "A member who was there can ask a facilitator to correct their {points}."
)


def settled_notice(meeting: Meeting) -> str:
    """Why a settled meeting cannot be logged, dated on the meeting's own clock."""
    assert meeting.deductions_applied_at is not None, "only a settled meeting says so"
    day = meeting.deductions_applied_at.astimezone(meeting.timezone)
    points = str(POINTS[Rule.MISSED]).replace("-", "\u2212")
    return SETTLED.format(day=f"{day.day} {day:%B %Y}", points=points)


def consistency_points(nth: int) -> int:
    """Points for attending one's n-th logged meeting in a crew: 1, then 3, then 5 each."""
    if nth < 1:
        raise ValueError("Meetings are counted from 1.")
    return {1: 1, 2: 3}.get(nth, 5)


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
    return WORDING[rule][1].format(**parts)[:300]
