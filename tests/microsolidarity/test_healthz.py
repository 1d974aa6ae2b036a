from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from pytest_django.fixtures import Settings

from microsolidarity.schedule import PERIODIC_TASKS
from microsolidarity.services.heartbeats import record_run

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


@pytest.fixture
def schedule_ran() -> None:
    for name in PERIODIC_TASKS:
        record_run(name)


@pytest.fixture
def operator(client: Client) -> Client:
    """Signed in as staff: told what is wrong, not only which part."""
    from congregations.models import Self

    client.force_login(Self.objects.create_superuser("op@example.net", "pw", display_name="Op"))
    return client


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
    # Anyone is told which part is down, never the error's words.
    assert body["checks"]["broker"] == "down"
    assert "127.0.0.1" not in response.content.decode()
    assert "details" not in body


def test_a_stale_periodic_task_is_named(client: Client, schedule_ran: None) -> None:
    record_run("heartbeat", now=timezone.now() - timedelta(hours=1))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["schedule"]
    assert response.json()["checks"]["schedule"] == "down"


def test_an_hourly_task_is_stale_only_after_an_hour_and_the_leeway(
    operator: Client, schedule_ran: None
) -> None:
    record_run("nudge_quiet_crews", now=timezone.now() - timedelta(minutes=64))
    assert operator.get("/healthz").status_code == 200
    record_run("nudge_quiet_crews", now=timezone.now() - timedelta(minutes=66))
    assert operator.get("/healthz").json()["details"]["schedule"] == "stale: nudge_quiet_crews"


def test_tasks_that_never_ran_are_stale(operator: Client) -> None:
    # Their first runs were due long enough ago (a fresh install starts them a minute apart).
    PeriodicTask.objects.update(start_time=timezone.now() - timedelta(hours=1))
    response = operator.get("/healthz")
    assert response.status_code == 503
    assert response.json()["details"]["schedule"].startswith("stale: heartbeat, send_emails")


def test_only_get_is_allowed(client: Client) -> None:
    assert client.post("/healthz").status_code == 405


def test_an_operator_sees_what_is_wrong_and_the_items_jobs_failed_on(
    operator: Client, schedule_ran: None, unreachable_broker: None
) -> None:
    from microsolidarity.models import ItemFailure

    now = timezone.now()
    ItemFailure.objects.create(
        job="send_emails",
        item_id=7,
        attempts=1,
        last_error="x",
        first_failed_at=now,
        retry_after=now,
    )
    ItemFailure.objects.create(
        job="send_emails",
        item_id=8,
        attempts=5,
        last_error="x",
        first_failed_at=now,
        retry_after=now,
        gave_up_at=now,
    )
    body = operator.get("/healthz").json()

    assert "127.0.0.1:1" in body["details"]["broker"]
    assert body["failed_items"] == {"send_emails": {"retrying": 1, "given_up": 1}}
