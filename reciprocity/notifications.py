"""The game's emails: why points were deducted, and a warning before a conflict's deadline."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from congregations.outbox import Outgoing, queue_emails
from crews.links import crew_url

from .models import Conflict, ConflictStatus, LedgerEntry, Rule
from .rules import POINTS

# Deductions newer than this get their email; older ones were emailed by earlier runs.
LOOKBACK = timedelta(days=2)
WARN_BEFORE = timedelta(days=7)


def queue_missed_meeting_emails(*, now: datetime | None = None) -> int:
    """One short email per missed-meeting deduction, saying why."""
    now = now or timezone.now()
    with scopes_disabled():
        deductions = LedgerEntry.objects.filter(
            rule=Rule.MISSED, recorded_at__gte=now - LOOKBACK
        ).select_related("member", "crew__congregation", "meeting")
        return queue_emails((_missed(d) for d in deductions), now=now)


def _missed(deduction: LedgerEntry) -> Outgoing:
    crew = deduction.crew
    assert crew is not None, "a missed meeting is always a crew's"
    return Outgoing(
        congregation_id=deduction.congregation_id,
        recipient=deduction.member,
        key=deduction.idempotency_key,
        subject=f"{POINTS[Rule.MISSED]} points: a missed {crew.name} meeting",
        template="reciprocity/email/missed.txt",
        context={"entry": deduction, "crew": crew, "url": crew_url(crew)},
    )


def warn_conflicts_nearing_deadline(*, now: datetime | None = None) -> int:
    """One warning to each party, a week before an open conflict's deadline."""
    now = now or timezone.now()
    with scopes_disabled(), transaction.atomic():
        conflicts = list(
            Conflict.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=ConflictStatus.OPEN,
                warned_at__isnull=True,
                deadline_at__gt=now,
                deadline_at__lte=now + WARN_BEFORE,
            )
            .select_related("crew__congregation")
            .prefetch_related("parties__party")
        )
        queued = queue_emails(
            (
                Outgoing(
                    congregation_id=c.congregation_id,
                    recipient=seat.party,
                    key=f"conflict-warning:{c.pk}:{seat.party_id}",
                    subject=f"A week left to resolve “{c}”",
                    template="reciprocity/email/conflict_warning.txt",
                    context={"conflict": c, "points": POINTS[Rule.EXPIRED]},
                )
                for c in conflicts
                for seat in c.parties.all()
            ),
            now=now,
        )
        Conflict.objects.filter(pk__in=[c.pk for c in conflicts]).update(warned_at=now)
    return queued
