"""A Self's secret calendar feed address."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from congregations.models import Self
from congregations.tokens import new_token

from ..models import CalendarFeed


@transaction.atomic
def renew_calendar_feed(*, owner: Self, now: datetime | None = None) -> str:
    """A new secret address for the Self's calendar feed; any old address stops working.
    Returns the token, which is not stored."""
    token, token_hash = new_token()
    CalendarFeed.objects.update_or_create(
        owner=owner,
        defaults={"token_hash": token_hash, "created_at": now or timezone.now()},
    )
    return token


@transaction.atomic
def revoke_calendar_feed(*, owner: Self) -> None:
    CalendarFeed.objects.filter(owner=owner).delete()
