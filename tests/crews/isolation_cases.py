"""Every crews URL under /c/<slug>/ with the status a GET should get, per persona, for the
central isolation matrix.

Personas:
  anonymous          not signed in: sent to sign in before the slug is looked up
  outsider           a member of another congregation: 404, as if nothing were there
  member_not_in_crew a member of the congregation who is not in the crew
  crew_member        a current member of the crew
  facilitator        a facilitator of the congregation who is not in the crew

Crew pages are for the crew's members: a facilitator sees a crew's name and size on its
page (200) but not its history or meetings (404). URLs that change something take POST
only, so a GET from anyone who may see the congregation is 405.

Build the objects with ``make_world(crew=..., crew_member=...)`` (the ``crew`` fixture of
tests/conftest.py and its ``member``), then reverse ``CASES[name].kwargs(world)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from congregations.models import Self
from crews import services
from crews.models import Crew, CrewInvitation, Meeting

from ..factories import MembershipFactory

PERSONAS = ("anonymous", "outsider", "member_not_in_crew", "crew_member", "facilitator")


@dataclass(frozen=True)
class World:
    crew: Crew
    meeting: Meeting
    crew_member: Self
    invitation: CrewInvitation

    @property
    def slug(self) -> str:
        return self.crew.congregation.slug


def make_world(*, crew: Crew, crew_member: Self) -> World:
    """A meeting of the crew next week, and an open invitation to it for a new member."""
    meeting = services.schedule_meeting(
        crew=crew, starts_at=timezone.now() + timedelta(days=7), scheduled_by=crew_member
    )
    invitee = MembershipFactory.create(congregation=crew.congregation).member
    invitation = services.invite_to_crew(crew=crew, invitee=invitee, invited_by=crew_member)
    return World(crew=crew, meeting=meeting, crew_member=crew_member, invitation=invitation)


@dataclass(frozen=True)
class Case:
    kwargs: Callable[[World], dict[str, Any]]
    status: dict[str, int]


def _statuses(member_not_in_crew: int, crew_member: int, facilitator: int) -> dict[str, int]:
    return {
        "anonymous": 302,
        "outsider": 404,
        "member_not_in_crew": member_not_in_crew,
        "crew_member": crew_member,
        "facilitator": facilitator,
    }


EVERY_MEMBER = _statuses(200, 200, 200)
CREW_ONLY = _statuses(404, 200, 404)
CREW_PAGE = _statuses(404, 200, 200)
POST_ONLY = _statuses(405, 405, 405)


def _congregation(world: World) -> dict[str, Any]:
    return {"congregation_slug": world.slug}


def _crew(world: World) -> dict[str, Any]:
    return {"congregation_slug": world.slug, "pk": world.crew.pk}


def _meeting(world: World) -> dict[str, Any]:
    return {"congregation_slug": world.slug, "pk": world.meeting.pk}


def _invitation(world: World) -> dict[str, Any]:
    return {"congregation_slug": world.slug, "pk": world.invitation.pk}


def _tap(world: World) -> dict[str, Any]:
    return {**_meeting(world), "member_id": world.crew_member.pk}


CASES: dict[str, Case] = {
    "crews:congregation": Case(_congregation, EVERY_MEMBER),
    "crews:people": Case(_congregation, EVERY_MEMBER),
    "crews:propose": Case(_congregation, EVERY_MEMBER),
    "crews:crew": Case(_crew, CREW_PAGE),
    "crews:invite": Case(_crew, POST_ONLY),
    "crews:leave": Case(_crew, POST_ONLY),
    "crews:history": Case(_crew, CREW_ONLY),
    "crews:schedule": Case(_crew, POST_ONLY),
    "crews:answer_invitation": Case(_invitation, POST_ONLY),
    "crews:meeting": Case(_meeting, CREW_ONLY),
    "crews:reschedule": Case(_meeting, POST_ONLY),
    "crews:cancel": Case(_meeting, POST_ONLY),
    "crews:tap": Case(_tap, POST_ONLY),
    "crews:log": Case(_meeting, POST_ONLY),
    "crews:notes": Case(_meeting, POST_ONLY),
}
