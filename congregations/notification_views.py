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
    # The count the badge shows: unread further down than the list reaches counts too, so
    # "Mark all as read" is there whenever the badge says something is unread.
    return render(
        request,
        "congregations/notifications.html",
        {
            "notifications": notifications_of(self_=request.user),
            "unread": unread_count(self_=request.user),
        },
    )


@login_required
@require_GET
def unread(request: AuthenticatedRequest) -> HttpResponse:
    """The navigation's count, reloaded after an action that may change it."""
    return render(request, "_unread.html", {"unread": unread_count(self_=request.user)})
