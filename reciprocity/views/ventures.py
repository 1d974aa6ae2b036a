"""Level 5: ventures whose legal ownership is shared. They belong to the congregation, so
every member sees them; only a co-owner confirms, and only their own share."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from congregations.selectors import member_selves
from congregations.web import show_refusal, swap_or_back
from microsolidarity.http import CongregationRequest

from .. import services
from ..forms import VentureForm
from ..models import Venture
from ..selectors import ventures as ventures_of

TEMPLATE = "reciprocity/venture.html"


@require_GET
def ventures(request: CongregationRequest) -> HttpResponse:
    found = ventures_of(congregation=request.congregation)
    return render(request, "reciprocity/ventures.html", {"ventures": found})


@require_http_methods(["GET", "POST"])
def register_venture(request: CongregationRequest) -> HttpResponse:
    form = VentureForm(
        request.POST if request.method == "POST" else None,
        key_owner=request.congregation,
        others=member_selves(congregation=request.congregation).exclude(pk=request.user.pk),
    )
    if form.is_valid():
        try:
            venture = services.register_venture(
                congregation=request.congregation,
                name=form.cleaned_data["name"],
                legal_form=form.cleaned_data["legal_form"],
                co_owners=[request.user, *form.cleaned_data["co_owners"]],
                registered_by=request.user,
                request_key=form.cleaned_data["request_key"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request,
                # Translators: A venture is a company, association or co-op whose legal
                # ownership members share.
                _("The venture is registered. Confirm your own share on its page."),
            )
            return redirect(_url(request, venture.pk))
    return render(request, "reciprocity/register_venture.html", {"form": form})


def _venture(request: CongregationRequest, pk: int) -> Venture:
    found = ventures_of(congregation=request.congregation).filter(pk=pk).first()
    if found is None:
        # Translators: A venture is a company, association or co-op whose legal ownership
        # members share.
        raise Http404(_("No such venture."))
    return found


def _url(request: CongregationRequest, pk: int) -> str:
    return reverse("reciprocity:venture", args=[request.congregation.slug, pk])


@require_GET
def venture(request: CongregationRequest, pk: int) -> HttpResponse:
    return render(request, TEMPLATE, {"venture": _venture(request, pk)})


@require_POST
def confirm_co_ownership(request: CongregationRequest, pk: int) -> HttpResponse:
    error = None
    try:
        services.confirm_co_ownership(venture=_venture(request, pk), co_owner=request.user)
    except ValidationError as refused:
        error = refused
    return swap_or_back(
        request,
        f"{TEMPLATE}#co_owners",
        lambda: {"venture": _venture(request, pk)},
        back=_url(request, pk),
        done=_("You confirmed that you share legal ownership."),
        refusal=error,
    )
