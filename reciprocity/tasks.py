from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from microsolidarity.services.heartbeats import record_run

from . import services

# A database that drops a connection or a lock that times out passes; retry a few times,
# then leave it to the next periodic run (and /healthz, which will call the job stale).
TRANSIENT = {"autoretry_for": (OperationalError,), "retry_backoff": 1, "max_retries": 3}


@shared_task(**TRANSIENT)
def apply_missed_meeting_deductions() -> int:
    """−5 per missed meeting, and one email to each member it cost, saying why."""
    written = services.settle_missed_meetings()
    record_run("apply_missed_meeting_deductions")
    return written


@shared_task(**TRANSIENT)
def expire_open_conflicts() -> int:
    """Warn the parties a week ahead, and −20 each once a conflict is past its deadline."""
    written = services.mind_conflict_deadlines()
    record_run("expire_open_conflicts")
    return written
