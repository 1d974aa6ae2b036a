"""What the crew pages share: finding a crew or meeting for its members, and where to go
after a change."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect

from microsolidarity.http import CongregationRequest

from ..models import Crew, Meeting
from ..selectors import is_current_member


def get_crew(pk: int) -> Crew:
    # The request's tenant scope limits this to the congregation in the URL.
    return get_object_or_404(Crew.objects.select_related("congregation"), pk=pk)


def crew_for_member(request: CongregationRequest, pk: int) -> Crew:
    """The crew, for its current members; 404 for everyone else, as crew pages are theirs."""
    crew = get_crew(pk)
    if not is_current_member(crew=crew, self_=request.user):
        raise Http404("No such crew.")
    return crew


def meeting_for_member(request: CongregationRequest, pk: int) -> Meeting:
    """The meeting, for current members of its crew; 404 for everyone else, facilitators
    included: its notes belong to the crew."""
    meeting: Meeting = get_object_or_404(
        Meeting.objects.select_related("crew", "congregation", "logged_by"), pk=pk
    )
    if not is_current_member(crew=meeting.crew, self_=request.user):
        raise Http404("No such meeting.")
    return meeting


def to_page(request: CongregationRequest, name: str, **kwargs: Any) -> HttpResponseRedirect:
    return redirect(f"crews:{name}", congregation_slug=request.congregation.slug, **kwargs)
