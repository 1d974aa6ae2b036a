"""The congregation's home and its dating pool."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from microsolidarity.http import CongregationRequest

from ..selectors import congregation_overview, dating_pool


@require_GET
def congregation_home(request: CongregationRequest) -> HttpResponse:
    overview = congregation_overview(
        congregation=request.congregation, self_=request.user, now=timezone.now()
    )
    return render(request, "crews/congregation.html", {"overview": overview})


@require_GET
def people(request: CongregationRequest) -> HttpResponse:
    """The dating pool: who does what work, so complementary crew-mates can find each other."""
    pool = dating_pool(congregation=request.congregation)
    return render(request, "crews/people.html", {"pool": pool})
