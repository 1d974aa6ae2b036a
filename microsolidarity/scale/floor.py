"""The framework floor: what Django itself costs a signed-in request that runs one trivial
query and renders a minimal template. Every page is measured against it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from congregations.models import Congregation


def floor(request: HttpRequest) -> HttpResponse:
    name = Congregation.objects.order_by("pk").values_list("name", flat=True).first()
    return render(request, "bench/floor.html", {"name": name})
