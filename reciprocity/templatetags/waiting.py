"""What waits for the signed-in Self, for the home pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone

from ..selectors.waiting import waiting_for

register = template.Library()


@register.inclusion_tag("reciprocity/_waiting.html", takes_context=True)
def waiting_for_you(context: template.Context) -> dict[str, Any]:
    """On a congregation's home, what waits in it; on the signed-in home, in all of them."""
    return waiting_context(context["request"])


def waiting_context(request: Any) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    items = waiting_for(self_=request.user, now=timezone.now(), membership=membership)
    if membership is None:
        refresh = reverse("waiting")
    else:
        refresh = reverse(
            "reciprocity:waiting", kwargs={"congregation_slug": membership.congregation.slug}
        )
    return {
        "items": items,
        "everywhere": membership is None,
        "refresh": refresh,
        "request": request,
    }
