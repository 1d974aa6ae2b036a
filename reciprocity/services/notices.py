"""The game's emails: why points were deducted, and a warning before a conflict's deadline
(which marks the conflict warned)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from congregations import tasks as congregation_tasks
from congregations.arrays import one_of
from congregations.services.outbox import Outgoing, queue_emails
from crews.links import crew_url
from microsolidarity.enqueue import enqueue_after_commit
from microsolidarity.services.batches import each_due

from ..models import Conflict, ConflictStatus, LedgerEntry
from ..rules import POINTS, Rule

WARN_BEFORE = timedelta(days=7)


def queue_missed_meeting_emails(entry_ids: Iterable[int], *, now: datetime) -> int:
    """One short email per missed-meeting deduction just written, saying why, sent once the
    batch commits. Called by the missed-meeting job in the transaction that wrote the
    entries."""
    with scopes_disabled():
        deductions = LedgerEntry.objects.filter(pk__in=one_of(list(entry_ids))).select_related(
            "member", "crew__congregation", "meeting"
        )
        queued = len(queue_emails((_missed(d) for d in deductions), now=now))
    if queued:
        enqueue_after_commit(congregation_tasks.send_emails)
    return queued


def _missed(deduction: LedgerEntry) -> Outgoing:
    crew = deduction.crew
    assert crew is not None, "a missed meeting is always a crew's"
    return Outgoing(
        congregation_id=deduction.congregation_id,
        recipient=deduction.member,
        key=deduction.idempotency_key,
        subject=f"{POINTS[Rule.MISSED]} points: a missed {crew.name} meeting",
        template="reciprocity/email/missed.txt",
        context={
            "entry": deduction,
            "crew": crew,
            "url": crew_url(crew),
            "entry_url": settings.SITE_URL
            + reverse(
                "reciprocity:entry",
                kwargs={"congregation_slug": crew.congregation.slug, "pk": deduction.pk},
            ),
        },
    )


def warn_conflicts_nearing_deadline(*, now: datetime | None = None) -> int:
    """One warning to each party, a week before an open conflict's deadline."""
    now = now or timezone.now()
    with scopes_disabled():
        due = Conflict.objects.filter(
            status=ConflictStatus.OPEN,
            warned_at__isnull=True,
            deadline_at__gt=now,
            deadline_at__lte=now + WARN_BEFORE,
        ).select_related("crew__congregation")
    return each_due("warn_conflicts", due, partial(_warn, now=now), now=now)


def _warn(conflict: Conflict, *, now: datetime) -> int:
    emails = queue_emails(
        (
            Outgoing(
                congregation_id=conflict.congregation_id,
                recipient=seat.party,
                key=f"conflict-warning:{conflict.pk}:{seat.party_id}",
                subject=f"A week left to resolve “{conflict}”",
                template="reciprocity/email/conflict_warning.txt",
                context={"conflict": conflict, "points": POINTS[Rule.EXPIRED]},
            )
            for seat in conflict.parties.select_related("party")
        ),
        now=now,
    )
    conflict.warned_at = now
    conflict.save(update_fields=["warned_at"])
    return len(emails)
