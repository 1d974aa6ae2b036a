"""The privacy page, and a Self's own data: asking for it and downloading it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from microsolidarity.http import AuthenticatedRequest

from .services.downloads import download_archive, request_archive


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    context = {
        "invitation_days": settings.PRIVACY_FORGET_INVITATIONS_AFTER.days,
        "email_days": settings.PRIVACY_FORGET_EMAILS_AFTER.days,
        "archive_hours": int(settings.PRIVACY_ARCHIVE_LIFETIME.total_seconds() // 3600),
    }
    return render(request, "privacy/privacy.html", context)


@login_required
@require_POST
def ask_for_data(request: AuthenticatedRequest) -> HttpResponse:
    try:
        request_archive(self_=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("profile")
    # The profile's "Your data" says it is being prepared; no message to repeat it.
    return redirect(reverse("profile") + "#your-data")


@login_required
@require_GET
def archive(request: AuthenticatedRequest, token: str) -> HttpResponse:
    """The emailed link: its owner, signed in, downloads the zip once. Anyone else, or
    the same link again or after its day, gets the 404 of a link that never was."""
    content = download_archive(token=token, self_=request.user)
    if content is None:
        # One page for every case, so it tells nothing of whose link it was.
        return render(request, "privacy/archive_gone.html", status=404)
    response = HttpResponse(content, content_type="application/zip")
    name = f"microsolidarity-data-{timezone.localdate():%Y-%m-%d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
