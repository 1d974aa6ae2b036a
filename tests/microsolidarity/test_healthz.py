from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from microsolidarity.heartbeats import record_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def unreachable_broker(settings: Settings) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"


def test_healthy_when_database_broker_and_heartbeat_are_fine(client: Client) -> None:
    record_run("heartbeat")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "down": [],
        "checks": {"database": "ok", "broker": "ok", "schedule": "ok"},
    }


def test_an_unreachable_broker_is_named(client: Client, unreachable_broker: None) -> None:
    record_run("heartbeat")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["broker"]
    assert "127.0.0.1:1" in body["checks"]["broker"]


def test_a_stale_heartbeat_is_named(client: Client) -> None:
    record_run("heartbeat", now=timezone.now() - timedelta(hours=1))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["schedule"]
    assert response.json()["checks"]["schedule"] == "stale: heartbeat"


def test_a_heartbeat_that_never_ran_is_stale(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["schedule"] == "stale: heartbeat"


def test_only_get_is_allowed(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
