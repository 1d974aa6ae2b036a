from __future__ import annotations

from celery import shared_task

from congregations.outbox import send_due_emails
from microsolidarity.heartbeats import record_run

from . import notifications


@shared_task
def send_meeting_reminders() -> int:
    """Queue the due reminders' emails, then send them straight away."""
    queued = notifications.send_due_reminders()
    if queued:
        send_due_emails()
    record_run("send_meeting_reminders")
    return queued


@shared_task
def nudge_unlogged_meetings() -> int:
    queued = notifications.nudge_unlogged_meetings()
    record_run("nudge_unlogged_meetings")
    return queued


@shared_task
def nudge_quiet_crews() -> int:
    queued = notifications.nudge_quiet_crews()
    record_run("nudge_quiet_crews")
    return queued
