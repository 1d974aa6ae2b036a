"""The Self's notifications, and the unread count the navigation shows."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from microsolidarity.http import AuthenticatedRequest

from . import services
from .selectors import notifications_of, unread_count


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: AuthenticatedRequest) -> HttpResponse:
    """What happened to the Self and what asks them to act, newest first; "Mark all as
    read" clears the unread count."""
    if request.method == "POST":
        services.mark_all_read(self_=request.user)
        return redirect("notifications")
    found = notifications_of(self_=request.user)
    return render(
        request,
        "congregations/notifications.html",
        {"notifications": found, "unread": sum(1 for n in found if n.read_at is None)},
    )


@login_required
@require_GET
def unread(request: AuthenticatedRequest) -> HttpResponse:
    """The navigation's count, reloaded after an action that may change it."""
    return render(request, "_unread.html", {"unread": unread_count(self_=request.user)})
