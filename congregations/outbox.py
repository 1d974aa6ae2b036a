"""The email outbox: background jobs queue emails as rows, and one periodic task sends them.

Queuing is idempotent by key, so a job that runs twice queues each email once. Sending
claims rows with SELECT … FOR UPDATE SKIP LOCKED and marks them sent in the same
transaction, so two workers never send the same row, and a worker that dies mid-way
leaves its rows to be sent by the next run.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_scopes import scopes_disabled

from .models import Email, Self

logger = logging.getLogger(__name__)

# A mail server that refuses this many times in a row is not going to accept it: stop
# retrying and leave the row marked failed, with its error, for an operator to see.
MAX_ATTEMPTS = 5
BATCH = 50


@dataclass(frozen=True)
class Attachment:
    name: str
    content: str
    mimetype: str


@dataclass
class Outgoing:
    """One email to queue: rendered from ``template`` with ``context`` plus the recipient."""

    congregation_id: int
    recipient: Self
    key: str
    subject: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    attachment: Attachment | None = None
    send_after: datetime | None = None


def queue_emails(outgoing: Iterable[Outgoing], *, now: datetime | None = None) -> int:
    """Queue the emails whose keys are new in their congregation; returns how many."""
    now = now or timezone.now()
    rows = [
        Email(
            congregation_id=o.congregation_id,
            recipient=o.recipient,
            key=o.key,
            subject=o.subject,
            body=render_to_string(o.template, {**o.context, "recipient": o.recipient}),
            attachment_name=o.attachment.name if o.attachment else "",
            attachment=o.attachment.content if o.attachment else "",
            attachment_type=o.attachment.mimetype if o.attachment else "",
            created_at=now,
            send_after=o.send_after or now,
        )
        for o in outgoing
    ]
    if not rows:
        return 0
    with scopes_disabled():
        known = set(
            Email.objects.filter(
                congregation_id__in={r.congregation_id for r in rows},
                key__in=[r.key for r in rows],
            ).values_list("congregation_id", "key")
        )
        new = [r for r in rows if (r.congregation_id, r.key) not in known]
        Email.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def send_due_emails(*, now: datetime | None = None) -> int:
    """Send every queued email that is due; returns how many went out."""
    now = now or timezone.now()
    sent = 0
    while (batch := _send_batch(now)) is not None:
        sent += batch
    return sent


@transaction.atomic
def _send_batch(now: datetime) -> int | None:
    with scopes_disabled():
        emails = list(
            Email.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(sent_at__isnull=True, failed_at__isnull=True, send_after__lte=now)
            .order_by("send_after", "id")[:BATCH]
        )
    if not emails:
        return None
    sent = 0
    for email in emails:
        if _deliver(email, now):
            sent += 1
        email.save(update_fields=["sent_at", "attempts", "last_error", "failed_at", "send_after"])
    return sent


def _deliver(email: Email, now: datetime) -> bool:
    email.attempts += 1
    recipient = email.recipient
    if not recipient.is_active or recipient.anonymised_at:
        email.failed_at, email.last_error = now, "The recipient has left."
        return False
    message = EmailMessage(email.subject, email.body, to=[recipient.email])
    if email.attachment_name:
        message.attach(email.attachment_name, email.attachment, email.attachment_type)
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        email.last_error = str(error)[:1000]
        if email.attempts >= MAX_ATTEMPTS:
            email.failed_at = now
            logger.error("Gave up on email %s to %s: %s", email.pk, recipient.email, error)
        else:
            # Back off 2, 4, 8, 16 minutes: long enough for a mail server to come back.
            email.send_after = now + timedelta(minutes=2**email.attempts)
        return False
    email.sent_at = now
    return True
