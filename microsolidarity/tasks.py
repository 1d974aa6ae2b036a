from __future__ import annotations

from celery import shared_task

from .services.heartbeats import record_run


@shared_task
def heartbeat() -> None:
    """Proves that beat, the broker and a worker all work: /healthz reads when it last ran."""
    record_run("heartbeat")
