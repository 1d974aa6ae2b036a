from __future__ import annotations

from celery import shared_task

from microsolidarity.services.heartbeats import record_run

from .services.outbox import send_due_emails


@shared_task
def send_emails() -> int:
    """Send the outbox's due emails."""
    sent = send_due_emails()
    record_run("send_emails")
    return sent
