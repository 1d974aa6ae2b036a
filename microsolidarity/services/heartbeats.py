from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from ..models import Heartbeat
from ..schedule import PERIODIC_TASKS


def record_run(task: str, *, now: datetime | None = None) -> None:
    """Note that a periodic task has just finished a run."""
    Heartbeat.objects.update_or_create(task=task, defaults={"last_run_at": now or timezone.now()})


def stale_tasks(*, now: datetime | None = None) -> list[str]:
    """The periodic tasks that have not run within their interval plus HEARTBEAT_MAX_AGE."""
    now = now or timezone.now()
    last_runs = dict(Heartbeat.objects.values_list("task", "last_run_at"))
    return [
        name
        for name, periodic in PERIODIC_TASKS.items()
        if name not in last_runs
        or now - last_runs[name] > periodic.every + settings.HEARTBEAT_MAX_AGE
    ]
