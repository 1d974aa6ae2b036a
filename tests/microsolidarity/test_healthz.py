from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from microsolidarity.heartbeats import record_run
from microsolidarity.schedule import PERIODIC_TASKS

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule_ran() -> None:
    for name in PERIODIC_TASKS:
        record_run(name)


@pytest.fixture
def unreachable_broker(settings: Settings) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"


def test_healthy_when_database_broker_and_schedule_are_fine(
    client: Client, schedule_ran: None
) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "down": [],
        "checks": {"database": "ok", "broker": "ok", "schedule": "ok"},
    }


def test_an_unreachable_broker_is_named(
    client: Client, schedule_ran: None, unreachable_broker: None
) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["broker"]
    assert "127.0.0.1:1" in body["checks"]["broker"]


def test_a_stale_periodic_task_is_named(client: Client, schedule_ran: None) -> None:
    record_run("heartbeat", now=timezone.now() - timedelta(hours=1))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["schedule"]
    assert response.json()["checks"]["schedule"] == "stale: heartbeat"


def test_a_daily_task_is_stale_only_after_a_day(client: Client, schedule_ran: None) -> None:
    record_run("nudge_quiet_crews", now=timezone.now() - timedelta(hours=23))
    assert client.get("/healthz").status_code == 200
    record_run("nudge_quiet_crews", now=timezone.now() - timedelta(hours=25))
    assert client.get("/healthz").json()["checks"]["schedule"] == "stale: nudge_quiet_crews"


def test_tasks_that_never_ran_are_stale(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["schedule"].startswith("stale: heartbeat, send_emails")


def test_only_get_is_allowed(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
