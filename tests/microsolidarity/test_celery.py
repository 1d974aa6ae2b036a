"""The Celery wiring, with a real worker consuming from Redis (not eager mode)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from microsolidarity.celery import app
from microsolidarity.models import Heartbeat
from microsolidarity.tasks import heartbeat

from ..waiting import wait_for


def test_the_app_is_configured_for_json_utc_and_time_limits() -> None:
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.timezone == "UTC"
    assert app.conf.task_time_limit == 300
    assert app.conf.broker_url.startswith("redis://")


def test_a_real_worker_runs_the_heartbeat_sent_through_redis(celery_worker: None) -> None:
    # A run from now on, not "any row": an earlier test's worker may have left one
    # (pytest-randomly found this order once, with seed 66).
    sent = timezone.now()
    heartbeat.delay()
    wait_for(
        lambda: Heartbeat.objects.filter(task="heartbeat", last_run_at__gte=sent).exists(),
        what="the heartbeat",
    )


@pytest.mark.django_db
def test_the_beat_schedule_is_in_the_database_after_migrate() -> None:
    task = PeriodicTask.objects.get(name="heartbeat")
    assert task.task == "microsolidarity.tasks.heartbeat"
    assert task.enabled
    assert task.interval is not None
    assert (task.interval.every, task.interval.period) == (60, "seconds")
