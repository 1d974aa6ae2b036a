"""The Reciprocity Game's numbers, from the proposal, in one place."""

from __future__ import annotations

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


def consistency_points(nth: int) -> int:
    """Points for attending one's n-th logged meeting in a crew: 1, then 3, then 5 each."""
    if nth < 1:
        raise ValueError("Meetings are counted from 1.")
    return {1: 1, 2: 3}.get(nth, 5)
