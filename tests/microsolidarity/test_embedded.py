"""The embedded default that `make run` uses: SQLite and the filesystem broker, no
system service. Each step runs as its own process, the way `make run` runs them."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from honcho.environ import expand_processes, parse_procfile

from microsolidarity.schedule import PERIODIC_TASKS

from ..waiting import wait_for

HOME_PAGE = """
import json
from django.test import Client
from congregations.models import Congregation, Membership, Self
from congregations.tenancy import across_congregations
client = Client()
client.force_login(Self.objects.get(email="ana@example.org"))
with across_congregations():
    counts = {
        "selves": Self.objects.count(),
        "congregations": Congregation.objects.count(),
        "memberships": Membership.objects.count(),
    }
page = client.get("/")
print(json.dumps({**counts, "status": page.status_code, "lists_it": "Kotahi" in page.text}))
"""


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("embedded")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DEBUG", "SECRET_KEY"}
    }
    return {
        **env,
        "DEBUG": "true",  # as `make run` sets it
        "DJANGO_SETTINGS_MODULE": "microsolidarity.settings",
        "DATA_DIR": str(data),
    }


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def migrated(embedded: dict[str, str]) -> dict[str, str]:
    manage(embedded, "migrate", "--noinput")
    return embedded


@pytest.fixture
def worker(migrated: dict[str, str]) -> Iterator[None]:
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "microsolidarity", "worker", "--pool", "solo"],
        cwd=settings.BASE_DIR,
        env=migrated,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield
    process.terminate()
    process.wait(timeout=30)


def test_the_demo_loads_twice_without_duplicates_and_the_home_page_answers(
    migrated: dict[str, str],
) -> None:
    first = manage(migrated, "seed_demo")
    second = manage(migrated, "seed_demo")
    assert "Loaded the demo congregation" in first
    assert "Already loaded" in second
    assert "ana@example.org" in second
    state = json.loads(manage(migrated, "shell", "-c", HOME_PAGE).strip().splitlines()[-1])
    # Thirteen people, and the one who left for good, anonymised: never deleted.
    assert state == {
        "selves": 14,
        "congregations": 1,
        "memberships": 14,
        "status": 200,
        "lists_it": True,
    }


def test_a_task_goes_through_the_filesystem_broker_to_a_worker(
    migrated: dict[str, str], worker: None
) -> None:
    manage(
        migrated, "shell", "-c", "from microsolidarity.tasks import heartbeat; heartbeat.delay()"
    )
    database = Path(migrated["DATA_DIR"]) / "microsolidarity.sqlite3"
    assert (Path(migrated["DATA_DIR"]) / "broker" / "queue").is_dir()

    def heartbeats() -> int:
        with sqlite3.connect(database) as connection:
            return connection.execute("SELECT count(*) FROM microsolidarity_heartbeat").fetchone()[
                0
            ]

    wait_for(heartbeats, timeout=60, what="the worker to run the heartbeat")
    # kombu's broadcast exchanges live with the rest of the broker, not in the checkout.
    assert list((Path(migrated["DATA_DIR"]) / "broker" / "control").glob("*.exchange"))
    assert not (settings.BASE_DIR / "control").exists()


def test_a_migrate_of_one_app_on_a_fresh_database_succeeds_and_the_full_one_syncs_the_schedule(
    embedded: dict[str, str], tmp_path: Path
) -> None:
    fresh = {**embedded, "DATA_DIR": str(tmp_path)}
    database = tmp_path / "microsolidarity.sqlite3"

    # django-celery-beat's tables are not there yet after this one.
    manage(fresh, "migrate", "congregations", "0001", "--noinput")
    manage(fresh, "migrate", "--noinput")

    with sqlite3.connect(database) as connection:
        names = {
            row[0] for row in connection.execute("SELECT name FROM django_celery_beat_periodictask")
        }
    assert names == set(PERIODIC_TASKS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except OSError:
        return None


def test_make_run_serves_on_the_port_it_is_given_and_the_demo_prints_that_address(
    migrated: dict[str, str],
) -> None:
    """`make run PORT=…` (8123 in the issue; a free one here) as its recipe runs it: the
    demo loaded with the address it serves (what seed_demo prints then: tests/microsolidarity/
    test_demo.py), and the Procfile's web process as honcho starts it, with that PORT."""
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    recipe = subprocess.run(
        ["make", "-n", "run", f"PORT={port}"],
        cwd=settings.BASE_DIR,
        env=migrated,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    seed = next(line for line in recipe if "seed_demo" in line)
    start = next(line for line in recipe if "honcho" in line)
    assert f'SITE_URL="{address}"' in seed
    assert f'PORT="{port}"' in start and f'SITE_URL="{address}"' in start

    procfile = parse_procfile((settings.BASE_DIR / "Procfile").read_text())
    (web,) = (
        p
        for p in expand_processes(procfile.processes, env={"PORT": str(port)})
        if p.name == "web.1"
    )
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    server = subprocess.Popen(
        web.cmd,
        shell=True,
        cwd=settings.BASE_DIR,
        env={**migrated, **web.env, "PATH": path},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # runserver's reloader and its child stop together
    )
    try:
        assert wait_for(lambda: answers(f"{address}/"), timeout=60, what="the server") == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
