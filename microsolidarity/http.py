"""Request types for views: what the middleware has attached by the time a view runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from congregations.models import Congregation, Membership, Self


class AuthenticatedRequest(HttpRequest):
    user: Self
    htmx: HtmxDetails


class CongregationRequest(AuthenticatedRequest):
    """A request under /c/<slug>/ from a current member (see CongregationMiddleware)."""

    congregation: Congregation
    membership: Membership


# The htmx event an answer given in place sends back (``HX-Trigger``): "Waiting for you"
# reloads itself on it (templates/reciprocity/_waiting.html). The unread count follows
# every htmx change (microsolidarity.middleware.NotificationsChangedMiddleware).
WAITING_CHANGED = "waiting-changed"
