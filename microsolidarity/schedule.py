"""The periodic tasks, in one place. After every migrate they are written to
django-celery-beat's tables, where beat's database scheduler reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import DEFAULT_DB_ALIAS


@dataclass(frozen=True)
class Periodic:
    task: str
    every: timedelta


PERIODIC_TASKS: dict[str, Periodic] = {
    "heartbeat": Periodic("microsolidarity.tasks.heartbeat", timedelta(minutes=1)),
    "send_emails": Periodic("congregations.tasks.send_emails", timedelta(minutes=1)),
    "send_daily_emails": Periodic("congregations.tasks.send_daily_emails", timedelta(hours=1)),
    "remind_invitations": Periodic("congregations.tasks.remind_invitations", timedelta(hours=1)),
    "send_meeting_reminders": Periodic("crews.tasks.send_meeting_reminders", timedelta(minutes=1)),
    "nudge_unlogged_meetings": Periodic(
        "crews.tasks.nudge_unlogged_meetings", timedelta(minutes=15)
    ),
    "nudge_quiet_crews": Periodic("crews.tasks.nudge_quiet_crews", timedelta(hours=24)),
    "apply_missed_meeting_deductions": Periodic(
        "reciprocity.tasks.apply_missed_meeting_deductions", timedelta(minutes=15)
    ),
    "expire_open_conflicts": Periodic(
        "reciprocity.tasks.expire_open_conflicts", timedelta(hours=1)
    ),
    "prepare_archives": Periodic("privacy.tasks.prepare_archives", timedelta(minutes=1)),
    "forget_expired": Periodic("privacy.tasks.forget_expired", timedelta(hours=1)),
}


def sync_periodic_tasks(
    *, apps: Apps = global_apps, using: str = DEFAULT_DB_ALIAS, **kwargs: Any
) -> None:
    """Create or update one PeriodicTask per entry above; idempotent. A new one is due at
    once, so a fresh install runs every job when beat starts, not a day later.

    ``apps`` is the state the migrate left the database in (``flush`` sends none: then
    every table is there). After a partial migrate (``migrate congregations 0001`` on a
    fresh database) django-celery-beat has no tables yet; the migrate that creates them
    syncs instead."""
    try:
        interval_schedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    except LookupError:
        return
    for name, periodic in PERIODIC_TASKS.items():
        interval, _ = interval_schedule.objects.using(using).get_or_create(
            every=int(periodic.every.total_seconds()), period="seconds"
        )
        periodic_task.objects.using(using).update_or_create(
            name=name,
            defaults={"task": periodic.task, "interval": interval, "enabled": True},
            create_defaults={
                "task": periodic.task,
                "interval": interval,
                "last_run_at": datetime(2000, 1, 1, tzinfo=UTC),
            },
        )
