"""What waits for the signed-in Self, as the fragment the home pages reload after an
answer given in place: under /c/<slug>/ in that congregation (a member's only, as the
tenancy middleware sees to), at /waiting/ in all of theirs."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..templatetags.waiting import waiting_context


@login_required
@require_GET
def waiting(request: HttpRequest) -> HttpResponse:
    return render(request, "reciprocity/_waiting.html", waiting_context(request))
