"""Level 4: conflicts, private to their parties."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from congregations.web import show_refusal, swap_or_back
from crews.access import crew_for_member
from crews.selectors import crew_seats_of, current_members
from microsolidarity.http import CongregationRequest

from .. import services
from ..forms import ConflictForm
from ..models import Conflict
from ..selectors import conflict_for_party, conflicts_of

TEMPLATE = "reciprocity/conflict.html"


@require_GET
def my_conflicts(request: CongregationRequest) -> HttpResponse:
    crews = crew_seats_of(self_=request.user, congregation=request.congregation)
    seats = conflicts_of(self_=request.user, congregation=request.congregation)
    return render(request, "reciprocity/my_conflicts.html", {"seats": seats, "crews": crews})


@require_http_methods(["GET", "POST"])
def open_conflict(request: CongregationRequest, crew_pk: int) -> HttpResponse:
    crew = crew_for_member(request, crew_pk)
    form = ConflictForm(
        request.POST if request.method == "POST" else None,
        key_owner=request.congregation,
        crew_mates=current_members(crew=crew).exclude(pk=request.user.pk),
    )
    if form.is_valid():
        try:
            conflict = services.open_conflict(
                crew=crew,
                parties=[request.user, *form.cleaned_data["parties"]],
                opened_by=request.user,
                title=form.cleaned_data["title"],
                request_key=form.cleaned_data["request_key"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, _("The conflict is open. Only its parties can see it."))
            return redirect(_url(request, conflict))
    return render(request, "reciprocity/open_conflict.html", {"crew": crew, "form": form})


def _party_conflict(request: CongregationRequest, pk: int) -> Conflict:
    """404 for anyone but a party, crew-mates and facilitators included."""
    conflict = conflict_for_party(pk=pk, self_=request.user, congregation=request.congregation)
    if conflict is None:
        raise Http404(_("No such conflict."))
    return conflict


def _context(request: CongregationRequest, pk: int) -> dict[str, Any]:
    conflict = _party_conflict(request, pk)
    mine = next(s for s in conflict.parties.all() if s.party_id == request.user.pk)
    return {"conflict": conflict, "seat": mine}


def _url(request: CongregationRequest, conflict: Conflict) -> str:
    return reverse("reciprocity:conflict", args=[request.congregation.slug, conflict.pk])


@require_GET
def conflict(request: CongregationRequest, pk: int) -> HttpResponse:
    return render(request, TEMPLATE, _context(request, pk))


def _act(
    request: CongregationRequest, pk: int, action: Callable[[Conflict], object], done: str
) -> HttpResponse:
    error = None
    try:
        action(_party_conflict(request, pk))
    except ValidationError as refused:
        error = refused
    return swap_or_back(
        request,
        f"{TEMPLATE}#outcome",
        lambda: _context(request, pk),
        back=reverse("reciprocity:conflict", args=[request.congregation.slug, pk]),
        done=done,
        refusal=error,
    )


@require_POST
def confirm_resolution(request: CongregationRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda c: services.confirm_resolution(conflict=c, party=request.user),
        _("You confirmed that you found a mutually agreeable resolution."),
    )


@require_POST
def record_no_resolution(request: CongregationRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda c: services.record_no_resolution(conflict=c, recorded_by=request.user),
        _("Recorded that no mutually agreeable resolution was found."),
    )
