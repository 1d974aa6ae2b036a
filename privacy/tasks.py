from __future__ import annotations

from celery import shared_task

from microsolidarity.services.heartbeats import record_run

from .services import downloads, retention


@shared_task
def prepare_archives() -> int:
    """Build and email the data archives Selves have asked for."""
    prepared = downloads.prepare_due_archives()
    record_run("prepare_archives")
    return prepared


@shared_task
def forget_expired() -> int:
    """Keep nothing longer than needed: old invitations' addresses, sent emails' contents,
    archives past their day."""
    forgotten = retention.forget_expired()
    record_run("forget_expired")
    return forgotten
