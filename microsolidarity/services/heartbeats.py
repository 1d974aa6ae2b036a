from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from ..models import Heartbeat
from ..schedule import PERIODIC_TASKS


def record_run(task: str, *, now: datetime | None = None) -> None:
    """Note that a periodic task has just finished a run."""
    Heartbeat.objects.update_or_create(task=task, defaults={"last_run_at": now or timezone.now()})


def stale_tasks(*, now: datetime | None = None) -> list[str]:
    """The periodic tasks that have not run within their interval plus HEARTBEAT_MAX_AGE.
    One that has never run is stale once HEARTBEAT_MAX_AGE has passed since its first run
    was due (a fresh install starts them a minute apart: schedule.first_run_offsets)."""
    now = now or timezone.now()
    last_runs = dict(Heartbeat.objects.values_list("task", "last_run_at"))
    never_run = [name for name in PERIODIC_TASKS if name not in last_runs]
    starts = dict(PeriodicTask.objects.filter(name__in=never_run).values_list("name", "start_time"))
    return [
        name
        for name, periodic in PERIODIC_TASKS.items()
        if (
            now - last_runs[name] > periodic.every + settings.HEARTBEAT_MAX_AGE
            if name in last_runs
            else starts.get(name) is None or now - starts[name] > settings.HEARTBEAT_MAX_AGE
        )
    ]
