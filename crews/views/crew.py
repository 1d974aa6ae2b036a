"""A crew's page and the history of its meetings."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from microsolidarity.http import CongregationRequest

from ..access import crew_for_member, crew_or_404, is_member
from ..forms import InviteForm, ScheduleForm
from ..models import Crew
from ..selectors import (
    crew_page,
    current_members,
    invitable,
    meeting_history,
    open_invitation,
)

HISTORY_PAGE_SIZE = 20


def render_crew_page(
    request: CongregationRequest,
    crew: Crew,
    *,
    invite_form: InviteForm | None = None,
    schedule_form: ScheduleForm | None = None,
) -> HttpResponse:
    """The page the crew's members see; a form that was refused comes back with its errors."""
    context = {
        "page": crew_page(crew=crew, now=timezone.now()),
        "invite_form": invite_form or InviteForm(candidates=invitable(crew=crew)),
        "schedule_form": schedule_form
        or ScheduleForm(zone=crew.timezone, key_owner=request.congregation),
    }
    return render(request, "crews/crew.html", context)


@require_GET
def crew_detail(request: CongregationRequest, pk: int) -> HttpResponse:
    """Crew pages are for the crew's members. Someone invited sees what they are invited
    to; a facilitator sees the crew's name and size, never its meetings; anyone else gets
    404."""
    crew = crew_or_404(request, pk)
    if is_member(crew, request.user):
        return render_crew_page(request, crew)
    invitation = open_invitation(crew=crew, self_=request.user)
    if invitation is None and not request.membership.is_facilitator:
        raise Http404("No such crew.")
    members = list(current_members(crew=crew))
    context = {"crew": crew, "invitation": invitation, "members": members}
    return render(request, "crews/crew_outside.html", context)


@require_GET
def history(request: CongregationRequest, pk: int) -> HttpResponse:
    crew = crew_for_member(request, pk)
    meetings = meeting_history(crew=crew, now=timezone.now())
    page = Paginator(meetings, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "crews/history.html", {"crew": crew, "page": page})
