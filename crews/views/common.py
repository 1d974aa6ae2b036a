"""What the crew pages share: where to go after a change."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseRedirect
from django.shortcuts import redirect

from microsolidarity.http import CongregationRequest


def to_page(request: CongregationRequest, name: str, **kwargs: Any) -> HttpResponseRedirect:
    return redirect(f"crews:{name}", congregation_slug=request.congregation.slug, **kwargs)
