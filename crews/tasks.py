from __future__ import annotations

from celery import shared_task

from microsolidarity.services.heartbeats import record_run

from .services import reminders


@shared_task
def send_meeting_reminders() -> int:
    """Queue the due reminders' emails; the service starts sending them at once."""
    queued = reminders.send_due_reminders()
    record_run("send_meeting_reminders")
    return queued


@shared_task
def nudge_unlogged_meetings() -> int:
    queued = reminders.nudge_unlogged_meetings()
    record_run("nudge_unlogged_meetings")
    return queued


@shared_task
def nudge_quiet_crews() -> int:
    queued = reminders.nudge_quiet_crews()
    record_run("nudge_quiet_crews")
    return queued
