"""The periodic tasks, in one place. After every migrate they are written to
django-celery-beat's tables, where beat's database scheduler reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class Periodic:
    task: str
    every: timedelta


PERIODIC_TASKS: dict[str, Periodic] = {
    "heartbeat": Periodic("microsolidarity.tasks.heartbeat", timedelta(minutes=1)),
}


def sync_periodic_tasks(**kwargs: Any) -> None:
    """Create or update one PeriodicTask per entry above; idempotent."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for name, periodic in PERIODIC_TASKS.items():
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=int(periodic.every.total_seconds()), period=IntervalSchedule.SECONDS
        )
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": periodic.task, "interval": interval, "enabled": True}
        )
