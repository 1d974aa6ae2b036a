"""The framework floor: what Django itself costs a signed-in request that runs one trivial
query and renders a minimal template. Every page is measured against it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import engines

from congregations.models import Congregation

# Compiled once, as the cached template loader holds a page's template.
FLOOR = engines["django"].from_string(
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Floor</title></head>\n'
    "<body><p>{{ name }}</p></body></html>\n"
)


def floor(request: HttpRequest) -> HttpResponse:
    name = Congregation.objects.order_by("pk").values_list("name", flat=True).first()
    return HttpResponse(FLOOR.render({"name": name}, request))
