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


# A fresh install's first runs, one job a minute in the order below (the heartbeat first,
# at once), so that beat does not start every job in the same minute on a full database.
FIRST_RUNS_APART = timedelta(minutes=1)


PERIODIC_TASKS: dict[str, Periodic] = {
    "heartbeat": Periodic("microsolidarity.tasks.heartbeat", timedelta(minutes=1)),
    "send_emails": Periodic("congregations.tasks.send_emails", timedelta(minutes=1)),
    "send_daily_emails": Periodic("congregations.tasks.send_daily_emails", timedelta(hours=1)),
    "remind_invitations": Periodic("congregations.tasks.remind_invitations", timedelta(hours=1)),
    "send_meeting_reminders": Periodic("crews.tasks.send_meeting_reminders", timedelta(minutes=1)),
    "nudge_unlogged_meetings": Periodic(
        "crews.tasks.nudge_unlogged_meetings", timedelta(minutes=15)
    ),
    # Hourly, a bounded share a run (crews.services.reminders.CREWS_A_RUN): once a month
    # each quiet crew; a run with every quiet crew nudged already reads only the crews.
    "nudge_quiet_crews": Periodic("crews.tasks.nudge_quiet_crews", timedelta(hours=1)),
    "apply_missed_meeting_deductions": Periodic(
        "reciprocity.tasks.apply_missed_meeting_deductions", timedelta(minutes=15)
    ),
    "expire_open_conflicts": Periodic(
        "reciprocity.tasks.expire_open_conflicts", timedelta(hours=1)
    ),
    "prepare_archives": Periodic("privacy.tasks.prepare_archives", timedelta(minutes=1)),
    "forget_expired": Periodic("privacy.tasks.forget_expired", timedelta(hours=1)),
}


def first_run_offsets() -> dict[str, timedelta]:
    """How long after the schedule is first written each job first runs."""
    return {name: i * FIRST_RUNS_APART for i, name in enumerate(PERIODIC_TASKS)}


def sync_periodic_tasks(
    *,
    apps: Apps = global_apps,
    using: str = DEFAULT_DB_ALIAS,
    now: datetime | None = None,
    **kwargs: Any,
) -> None:
    """Create or update one PeriodicTask per entry above; idempotent. A new one starts
    (``start_time``) its offset of ``first_run_offsets`` after ``now`` and is then due at
    once, so a fresh install runs every job within minutes of beat starting, not a day
    later, and not all in the same minute. An existing one keeps its own times.

    ``apps`` is the state the migrate left the database in (``flush`` sends none: then
    every table is there). After a partial migrate (``migrate congregations 0001`` on a
    fresh database) django-celery-beat has no tables yet; the migrate that creates them
    syncs instead."""
    try:
        interval_schedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    except LookupError:
        return
    now = now or datetime.now(UTC)
    offsets = first_run_offsets()
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
                "start_time": now + offsets[name],
                "last_run_at": datetime(2000, 1, 1, tzinfo=UTC),
            },
        )
