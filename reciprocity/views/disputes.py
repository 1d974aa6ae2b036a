"""A disputed missed-meeting deduction: the crew-mates who were there confirm it. Seen by
whoever may see the entry: its member, the crew, and facilitators."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from congregations.web import say_outcome
from microsolidarity.http import CongregationRequest

from .. import services
from ..models import Dispute
from ..selectors import dispute_in, dispute_witnesses
from .scores import may_see


def _dispute(request: CongregationRequest, pk: int) -> Dispute:
    found = dispute_in(congregation=request.congregation, pk=pk)
    if found is None or not may_see(request, found.entry):
        raise Http404(_("No such dispute."))
    return found


def _context(request: CongregationRequest, dispute: Dispute) -> dict[str, Any]:
    witnesses = list(dispute_witnesses(entry=dispute.entry))
    return {
        "dispute": dispute,
        "witnesses": witnesses,
        "may_confirm": dispute.is_pending and request.user in witnesses,
    }


@require_GET
def dispute(request: CongregationRequest, pk: int) -> HttpResponse:
    return render(request, "reciprocity/dispute.html", _context(request, _dispute(request, pk)))


@require_POST
def confirm_dispute(request: CongregationRequest, pk: int) -> HttpResponse:
    found = _dispute(request, pk)
    say_outcome(
        request,
        lambda: services.confirm_dispute(dispute=found, confirmed_by=request.user),
        _("Thank you: %(name)s’s 5 points are back.") % {"name": found.disputed_by},
    )
    return redirect(reverse("reciprocity:dispute", args=[request.congregation.slug, pk]))
