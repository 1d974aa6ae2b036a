"""With the broker down, scheduling and logging a meeting still succeed, and the reminder
goes out once the broker is back: the due work waits in the database, not in Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from congregations.models import Congregation, Self
from congregations.request_keys import new_request_key
from congregations.tenancy import tenant
from crews.models import Crew, MeetingStatus
from crews.services import log_meeting, schedule_meeting
from crews.tasks import send_meeting_reminders
from microsolidarity.celery import app
from tests.builders import scheduled_meeting

from ..waiting import wait_for


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Broker:
    """A Redis of our own that the test can stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.port, self.folder = free_port(), folder
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(
            [
                shutil.which("redis-server") or "redis-server",
                "--port", str(self.port), "--bind", "127.0.0.1", "--daemonize", "yes",
                "--save", "", "--appendonly", "no", "--dir", str(self.folder),
                "--pidfile", str(self.folder / "redis.pid"),
            ],
            check=True,
        )  # fmt: skip
        wait_for(self.answers, what="the test broker to start")

    def stop(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], check=False)
        wait_for(lambda: not self.answers(), what="the test broker to stop")

    def answers(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0


def use_broker(url: str) -> None:
    app.conf.broker_url = url
    # Celery caches its connection and producer pools per app; drop them so the next
    # message goes to the new address.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed for this test")
    saved = app.conf.broker_url
    own = Broker(tmp_path)
    own.start()
    use_broker(own.url)
    yield own
    own.stop()
    use_broker(saved)


@pytest.mark.django_db(transaction=True)
def test_meetings_are_scheduled_and_logged_with_the_broker_down_and_reminded_after(
    crew: Crew, member: Self, broker: Broker
) -> None:
    broker.stop()

    with transaction.atomic():
        upcoming = schedule_meeting(
            crew=crew, starts_at=timezone.now() + timedelta(hours=2), scheduled_by=member
        )
    held = scheduled_meeting(crew, timezone.now() - timedelta(hours=1))
    with transaction.atomic():
        log_meeting(meeting=held, present=[member], logged_by=member)

    with tenant(crew):
        held.refresh_from_db()
        assert upcoming.reminders.get().sent_at is None
    assert held.status == MeetingStatus.LOGGED
    assert mail.outbox == []

    broker.start()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        send_meeting_reminders.delay()  # what beat does every minute
        wait_for(lambda: len(mail.outbox) == 3, what="the reminders once the broker is back")
    with tenant(upcoming):
        assert upcoming.reminders.get().sent_at is not None


@pytest.fixture(params=["closed", "silent"])
def dead_broker(request: pytest.FixtureRequest) -> Iterator[None]:
    """A broker address where nothing answers: a closed port, or one that accepts the
    connection and then never says a word."""
    saved = app.conf.broker_url
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        if request.param == "silent":
            silent.listen(100)
        port = silent.getsockname()[1] if request.param == "silent" else free_port()
        use_broker(f"redis://127.0.0.1:{port}/0")
        yield
    use_broker(saved)


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_dead_pages_that_queue_work_answer_at_once(
    client: Client, congregation: Congregation, crew: Crew, member: Self, dead_broker: None
) -> None:
    client.force_login(member)
    started = time.monotonic()
    response = client.post(
        reverse("crews:schedule", args=[congregation.slug, crew.pk]),
        {
            "date": (timezone.now() + timedelta(days=9)).date().isoformat(),
            "time": "19:00",
            "request_key": new_request_key(congregation),
        },
    )
    assert response.status_code == 302
    assert time.monotonic() - started < 1

    held = scheduled_meeting(crew, timezone.now() - timedelta(hours=1))
    started = time.monotonic()
    response = client.post(
        reverse("crews:log", args=[congregation.slug, held.pk]), {"reflections": "Tea."}
    )
    assert response.status_code == 302
    assert time.monotonic() - started < 1
    with tenant(held):
        held.refresh_from_db()
    assert held.status == MeetingStatus.LOGGED
