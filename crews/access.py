"""Who may open a crew's pages and its meetings': its current members, and nobody else,
facilitators included (a crew's notes and scores are the crew's). The one gate the crew
pages, the game's pages and their template tags go through."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext

from congregations.models import Self
from microsolidarity.http import CongregationRequest

from . import selectors
from .models import Crew, Meeting
from .selectors import find_members_meeting, is_current_member


def is_member(crew: Crew, user: object) -> bool:
    """Whether ``user`` (signed in or not) is a current member of ``crew``."""
    return isinstance(user, Self) and is_current_member(crew=crew, self_=user)


def crew_and_seat(request: CongregationRequest, pk: int) -> tuple[Crew, bool]:
    """The crew of the request's congregation, whoever asks, and whether they are one of its
    current members; 404 when there is no such crew."""
    crew, seated = selectors.crew_and_seat(
        congregation=request.congregation, pk=pk, self_=request.user
    )
    if crew is None:
        # Translators: A crew is a small group of 3–8 people who meet about once a month (the
        # proposal's "Crew"); said of a crew or a dyad.
        raise Http404(gettext("No such crew."))
    return crew, seated


def crew_for_member(request: CongregationRequest, pk: int) -> Crew:
    """The crew, for its current members; 404 for everyone else."""
    crew, seated = crew_and_seat(request, pk)
    if not seated:
        raise Http404(gettext("No such crew."))
    return crew


def meeting_for_member(request: CongregationRequest, pk: int) -> Meeting:
    """The meeting, for current members of its crew; 404 for everyone else."""
    meeting = find_members_meeting(congregation=request.congregation, pk=pk, self_=request.user)
    if meeting is None:
        raise Http404(gettext("No such meeting."))
    return meeting
