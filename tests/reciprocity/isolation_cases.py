"""The game's URLs under /c/<slug>/ for the central isolation matrix: for each URL name,
the status a GET gets from each persona, and how to build the URL's other kwargs.

Personas: ``anonymous``; ``outsider`` (a member of another congregation);
``member_not_in_crew``; ``crew_member`` (in ``World.crew``, and a party to its conflict
and a co-owner of its venture); ``facilitator`` (of the congregation, not in the crew).
Build a ``World`` from the shared fixtures (``congregation``, ``crew``, ``member`` as the
crew member, ``crew_mate``), then ``case.kwargs(world)`` makes what the URL points at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from congregations.models import Congregation, Self
from crews.models import Crew
from reciprocity.models import LedgerEntry

from .world import conflict, logged_meeting, venture

PERSONAS = ("anonymous", "outsider", "member_not_in_crew", "crew_member", "facilitator")


@dataclass(frozen=True)
class World:
    congregation: Congregation
    crew: Crew
    crew_member: Self
    crew_mate: Self


@dataclass(frozen=True)
class Case:
    kwargs: Callable[[World], dict[str, Any]]
    status: dict[str, int]


def _statuses(member_not_in_crew: int, crew_member: int, facilitator: int) -> dict[str, int]:
    # Anonymous callers are sent to sign in, outsiders get the 404 of a missing congregation.
    return {
        "anonymous": 302,
        "outsider": 404,
        "member_not_in_crew": member_not_in_crew,
        "crew_member": crew_member,
        "facilitator": facilitator,
    }


CREW_ONLY = _statuses(404, 200, 404)  # also conflicts: the crew member is a party
EVERY_MEMBER = _statuses(200, 200, 200)
POST_ONLY = _statuses(405, 405, 405)


def _nothing(world: World) -> dict[str, Any]:
    return {}


def _crew(world: World) -> dict[str, Any]:
    return {"crew_pk": world.crew.pk}


def _meeting(world: World) -> dict[str, Any]:
    return {"meeting_pk": logged_meeting(world.crew).pk}


def _conflict(world: World) -> dict[str, Any]:
    return {"pk": conflict(world.crew, world.crew_member, world.crew_mate).pk}


def _venture(world: World) -> dict[str, Any]:
    return {"pk": venture(world.congregation, world.crew_member, world.crew_mate).pk}


def _entry(world: World) -> dict[str, Any]:
    logged_meeting(world.crew)
    return {
        "pk": LedgerEntry.objects.filter(member=world.crew_member).values_list("pk", flat=True)[0]
    }


CASES: dict[str, Case] = {
    "reciprocity:meeting_rounds": Case(_meeting, CREW_ONLY),
    "reciprocity:record_listening_round": Case(_meeting, POST_ONLY),
    "reciprocity:record_money_round": Case(_meeting, POST_ONLY),
    "reciprocity:my_conflicts": Case(_nothing, EVERY_MEMBER),
    "reciprocity:open_conflict": Case(_crew, CREW_ONLY),
    "reciprocity:conflict": Case(_conflict, CREW_ONLY),
    "reciprocity:confirm_resolution": Case(_conflict, POST_ONLY),
    "reciprocity:record_no_resolution": Case(_conflict, POST_ONLY),
    "reciprocity:ventures": Case(_nothing, EVERY_MEMBER),
    "reciprocity:register_venture": Case(_nothing, EVERY_MEMBER),
    "reciprocity:venture": Case(_venture, EVERY_MEMBER),
    "reciprocity:confirm_co_ownership": Case(_venture, POST_ONLY),
    "reciprocity:crew_scores": Case(_crew, CREW_ONLY),
    "reciprocity:crew_entries": Case(_crew, CREW_ONLY),
    "reciprocity:crew_entries_csv": Case(_crew, CREW_ONLY),
    "reciprocity:reverse_entry": Case(_entry, POST_ONLY),
    "reciprocity:me": Case(_nothing, EVERY_MEMBER),
    "reciprocity:my_entries": Case(_nothing, EVERY_MEMBER),
    "reciprocity:my_entries_csv": Case(_nothing, EVERY_MEMBER),
}
