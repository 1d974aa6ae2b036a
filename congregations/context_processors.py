"""What every page's navigation needs beyond the request."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .models import Membership
from .selectors import memberships_of


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The congregation switcher's other congregations, read only if a page shows it (a
    full page inside a congregation: one query; partial htmx answers make none)."""
    congregation = getattr(request, "congregation", None)
    if congregation is None:
        return {}

    def others() -> list[Membership]:
        mine = memberships_of(self_=request.user)  # type: ignore[arg-type]
        return [m for m in mine if m.congregation_id != congregation.pk]

    return {"other_memberships": SimpleLazyObject(others)}
