"""Read-only queries about a Self's data archives."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from congregations.models import Self

from .models import DataArchive


def archive_status(*, self_: Self, now: datetime | None = None) -> str:
    """ "preparing" while one is being built, "sent" while an emailed link still works,
    else ""."""
    now = now or timezone.now()
    latest = DataArchive.objects.filter(owner=self_).order_by("-requested_at", "-pk").first()
    if latest is None:
        return ""
    if latest.ready_at is None:
        return "preparing"
    if latest.downloaded_at is None and latest.expires_at and latest.expires_at > now:
        return "sent"
    return ""
