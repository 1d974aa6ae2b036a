from __future__ import annotations

from celery import shared_task

from microsolidarity.services.heartbeats import record_run

from .services import daily, reminders
from .services.outbox import send_due_emails


@shared_task
def send_emails() -> int:
    """Send the outbox's due emails."""
    sent = send_due_emails()
    record_run("send_emails")
    return sent


@shared_task
def send_daily_emails() -> int:
    """Queue the daily emails of those whose morning has come."""
    queued = daily.send_daily_emails()
    record_run("send_daily_emails")
    return queued


@shared_task
def remind_invitations() -> int:
    """Queue the one reminder of each invitation about to lapse."""
    reminded = reminders.remind_invitations()
    record_run("remind_invitations")
    return reminded
