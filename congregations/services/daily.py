"""The daily email: for a Self who asked for one email a day, what waits for them in a
congregation, gathered into one email each morning of theirs."""

from __future__ import annotations

from datetime import datetime, time
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from microsolidarity.enqueue import enqueue_after_commit
from microsolidarity.services.batches import each_due

from .. import tasks
from ..models import EmailOptOut, Membership, Notification, Self
from ..unsubscribe import DAILY
from .outbox import Outgoing, queue_emails

# It goes out at the first run from this hour of the Self's own day, once a day.
MORNING = time(8)


def _waiting() -> QuerySet[Notification]:
    """Notifications that ask, neither emailed nor done yet, of kinds their Self has not
    turned off."""
    turned_off = EmailOptOut.objects.filter(owner=OuterRef("recipient"), ask=OuterRef("ask"))
    return (
        Notification.objects.filter(emailed_at__isnull=True, read_at__isnull=True)
        .exclude(ask="")
        .exclude(Exists(turned_off))
    )


def _morning_zones(now: datetime) -> list[ZoneInfo]:
    """The timezones of those who take the daily email in which the morning has come."""
    zones = set(Self.objects.filter(email_digest=True).values_list("timezone", flat=True))
    return [zone for zone in zones if now.astimezone(zone).time() >= MORNING]


def send_daily_emails(*, now: datetime | None = None) -> int:
    """Queue the day's email to each Self who takes one, per congregation where something
    waits for them, once their morning has come; returns how many were queued. Each
    membership (a Self in a congregation) is one item: one that fails stops no other."""
    now = now or timezone.now()
    zones = _morning_zones(now)

    def due() -> QuerySet[Membership]:
        waiting = _waiting().filter(
            recipient=OuterRef("member"), congregation=OuterRef("congregation")
        )
        return (
            Membership.objects.current()
            .filter(member__email_digest=True, member__timezone__in=zones)
            .filter(Exists(waiting))
            .select_related("member", "congregation")
        )

    queued = each_due("send_daily_emails", due, partial(_send_daily, now=now), now=now)
    if queued:
        enqueue_after_commit(tasks.send_emails)
    return queued


def _send_daily(membership: Membership, *, now: datetime) -> int:
    """Queue the Self's email of the day in this congregation, with what waits for them,
    and mark those emailed. Once a day (the key names their day): what comes later waits
    for the next morning's."""
    self_, congregation = membership.member, membership.congregation
    day = now.astimezone(self_.timezone).date()
    waiting = list(
        _waiting().filter(recipient=self_, congregation=congregation).order_by("created_at", "pk")
    )
    queued = queue_emails(
        [
            Outgoing(
                congregation_id=congregation.pk,
                recipient=self_,
                key=f"daily:{self_.pk}:{day:%Y-%m-%d}",
                subject=format_lazy(
                    gettext_lazy("What waits for you in {congregation}"),
                    congregation=congregation.name,
                ),
                template="congregations/email/daily.txt",
                context={
                    "congregation": congregation,
                    "items": [{"text": n.text, "url": settings.SITE_URL + n.path} for n in waiting],
                    "profile_url": settings.SITE_URL + reverse("profile"),
                },
                kind=DAILY,
            )
        ],
        now=now,
    )
    if not queued:
        return 0
    Notification.objects.filter(pk__in=[n.pk for n in waiting]).update(emailed_at=now)
    return 1
