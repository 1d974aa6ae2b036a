"""Who may see what, and how a page answers after an action."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from crews.models import Crew, Meeting
from crews.selectors import is_current_member
from microsolidarity.http import CongregationRequest


def crew_of_member(request: CongregationRequest, crew_pk: int) -> Crew:
    """The crew, for its current members; 404 for everyone else, facilitators included:
    a crew's scores are private to the crew."""
    crew: Crew = get_object_or_404(
        Crew.objects.filter(congregation=request.congregation), pk=crew_pk
    )
    if not is_current_member(crew=crew, self_=request.user):
        raise Http404("No such crew.")
    return crew


def meeting_of_member(request: CongregationRequest, meeting_pk: int) -> Meeting:
    meeting: Meeting = get_object_or_404(
        Meeting.objects.filter(congregation=request.congregation).select_related("crew"),
        pk=meeting_pk,
    )
    if not is_current_member(crew=meeting.crew, self_=request.user):
        raise Http404("No such meeting.")
    return meeting


def after_action(
    request: CongregationRequest,
    *,
    fragment: str,
    context: dict[str, Any],
    back_to: str,
    done: str,
    error: ValidationError | None,
) -> HttpResponse:
    """With htmx, the page's fragment with the outcome in it, so the page needs no reload;
    without, the outcome as a message and back to the page."""
    if request.htmx:
        outcome = {"done": None if error else done, "refused": error.messages if error else []}
        return render(request, fragment, {**context, **outcome})
    if error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return redirect(back_to)
