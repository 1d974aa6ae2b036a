"""The congregation's home and its dating pool."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from congregations.roster import roster_version
from microsolidarity.http import CongregationRequest

from ..selectors import congregation_overview, dating_pool


@require_GET
def congregation_home(request: CongregationRequest) -> HttpResponse:
    overview = congregation_overview(
        congregation=request.congregation, self_=request.user, now=timezone.now()
    )
    context = {"overview": overview, "roster_version": roster_version(request.congregation.pk)}
    return render(request, "crews/congregation.html", context)


@require_GET
def people(request: CongregationRequest) -> HttpResponse:
    """The dating pool: who does what work, so complementary crew-mates can find each other."""
    pool = dating_pool(congregation=request.congregation)  # read only when not cached
    context = {"pool": pool, "roster_version": roster_version(request.congregation.pk)}
    return render(request, "crews/people.html", context)
