"""The game's emails: why points were deducted, and a warning before a conflict's deadline
(which marks the conflict warned)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from congregations import tasks as congregation_tasks
from congregations.services.outbox import Outgoing, queue_emails
from crews.links import crew_url
from crews.models import Meeting
from microsolidarity.arrays import one_of
from microsolidarity.enqueue import enqueue_after_commit
from microsolidarity.services.batches import each_due

from ..models import Conflict, ConflictStatus, LedgerEntry
from ..rules import POINTS, Rule

WARN_BEFORE = timedelta(days=7)
# Meetings whose emails are queued in one transaction: a month at 40,000 members is one.
MEETINGS_A_BATCH = 10_000
NEWS_FOR = timedelta(days=2)


def queue_missed_meeting_emails(*, now: datetime | None = None) -> int:
    """One short email per missed-meeting deduction, saying why: from the entries of each
    meeting the job has settled and not yet emailed about, a batch at a time, so nothing
    rescans the ledger and each email is rendered once. Starts the outbox once the batch
    commits; returns how many emails were queued."""
    now = now or timezone.now()

    def due() -> QuerySet[Meeting]:
        return Meeting.objects.filter(
            deductions_applied_at__isnull=False, deduction_emails_queued_at__isnull=True
        )

    queue = partial(_queue_missed, now=now)
    queued = each_due(
        "queue_missed_meeting_emails",
        due,
        lambda meeting: queue(Meeting.objects.filter(pk=meeting.pk)),
        now=now,
        batch=MEETINGS_A_BATCH,
        process_batch=queue,
    )
    if queued:
        enqueue_after_commit(congregation_tasks.send_emails)
    return queued


def _queue_missed(meetings: QuerySet[Meeting], *, now: datetime) -> int:
    settled = list(meetings.values_list("pk", "deductions_applied_at"))
    # A deduction settled longer ago than this is no news (a loaded history, a job that
    # was down for days): its meeting is marked, and nobody is emailed about it now.
    news = [pk for pk, settled_at in settled if settled_at and settled_at >= now - NEWS_FOR]
    deductions = LedgerEntry.objects.filter(
        meeting_id__in=one_of(news), rule=Rule.MISSED
    ).select_related("member", "crew__congregation", "meeting")
    queued = len(queue_emails((_missed(d) for d in deductions), now=now)) if news else 0
    Meeting.objects.filter(pk__in=one_of([pk for pk, _ in settled])).update(
        deduction_emails_queued_at=now
    )
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

    def due() -> QuerySet[Conflict]:
        return Conflict.objects.filter(
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
            # Who left the crew or the congregation is not waited on (rules.WHEN_SOMEONE_LEAVES).
            for seat in conflict.parties.filter(left_at__isnull=True).select_related("party")
        ),
        now=now,
    )
    conflict.warned_at = now
    conflict.save(update_fields=["warned_at"])
    return len(emails)
