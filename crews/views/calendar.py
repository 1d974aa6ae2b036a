"""The personal calendar feed: a page to make, renew or revoke its secret address, and
the feed itself, which calendar programs fetch without signing in."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from microsolidarity.http import AuthenticatedRequest

from .. import services
from ..ical import meetings_calendar
from ..selectors import calendar_feed_of, calendar_meetings, calendar_owner


@login_required
@require_http_methods(["GET", "POST"])
def calendar_settings(request: AuthenticatedRequest) -> HttpResponse:
    """The address is shown once, right after it is made: only its hash is kept."""
    feed_url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.revoke_calendar_feed(owner=request.user)
            messages.success(request, gettext("Your calendar address no longer works."))
            return redirect("calendar:settings")
        token = services.renew_calendar_feed(owner=request.user)
        feed_url = request.build_absolute_uri(reverse("calendar:feed", args=[token]))
    context = {"feed": calendar_feed_of(self_=request.user), "feed_url": feed_url}
    return render(request, "crews/calendar.html", context)


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    owner = calendar_owner(token=token)
    if owner is None:
        raise Http404(gettext("No such calendar."))
    now = timezone.now()
    # Fetched by a calendar program, with no session and no say in the language: the
    # calendar's texts are in its owner's.
    with translation.override(owner.email_language):
        body = meetings_calendar(calendar_meetings(self_=owner, now=now), now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response
