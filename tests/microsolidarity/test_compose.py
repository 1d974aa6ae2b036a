"""docker-compose.yml is valid, checked by the compose binary itself (no engine needed)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import compose
from django.conf import settings

# The package's console script always exits 0; the binary beside it tells the truth.
BINARY = Path(compose.__file__).parent / "docker-compose"
SECRETS = {
    "SECRET_KEY": "compose-config-check",
    "POSTGRES_PASSWORD": "superuser-secret",
    "DATABASE_PASSWORD": "app-secret",
    "DATABASE_OWNER_PASSWORD": "owner-secret",
}


def run_compose(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BINARY), "-f", "docker-compose.yml", *args],
        cwd=settings.BASE_DIR,
        env={**os.environ, **SECRETS},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_compose_file_is_valid() -> None:
    result = run_compose("config", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def services() -> dict[str, Any]:
    result = run_compose("config", "--format", "json")
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)["services"]
    return found


def replicas(service: dict[str, Any]) -> int:
    """How many containers compose starts for a service: one unless its deploy says."""
    return int((service.get("deploy") or {}).get("replicas", 1))


def test_it_runs_the_database_the_bouncer_the_broker_the_web_a_worker_and_one_beat() -> None:
    result = run_compose("config", "--services")
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == [
        "beat",
        "db",
        "migrate",
        "pgbouncer",
        "redis",
        "web",
        "worker",
    ]


def test_the_app_reaches_postgresql_through_pgbouncer_in_transaction_pooling_mode() -> None:
    found = services()
    bouncer = found["pgbouncer"]
    assert bouncer["image"].startswith("edoburu/pgbouncer:v")  # a pinned release, not latest
    assert bouncer["environment"]["POOL_MODE"] == "transaction"
    # It keeps each client's prepared statements (from 1.22), which the app then makes.
    version = tuple(int(part) for part in bouncer["image"].split(":v")[1].split("-")[0].split("."))
    assert version >= (1, 22)
    assert int(bouncer["environment"]["MAX_PREPARED_STATEMENTS"]) > 0
    assert found["web"]["environment"]["DATABASE_PREPARED_STATEMENTS"] == "true"
    # The drivers' parameters are let in.
    assert set(bouncer["environment"]["IGNORE_STARTUP_PARAMETERS"].split(",")) == {
        "extra_float_digits",
        "options",
    }
    assert bouncer["environment"]["DATABASE_URL"].endswith("@db:5432/microsolidarity")
    for name in ("web", "worker", "beat"):
        assert urlsplit(found[name]["environment"]["DATABASE_URL"]).hostname == "pgbouncer"
        assert found[name]["depends_on"]["pgbouncer"]["condition"] == "service_healthy"
    # Migrations hold locks and run DDL in a session of their own: straight to PostgreSQL.
    migrate = found["migrate"]["environment"]
    assert urlsplit(migrate["DATABASE_OWNER_URL"]).hostname == "db"
    assert urlsplit(migrate["DATABASE_URL"]).hostname == "db"


def test_several_web_processes_and_workers_and_exactly_one_beat() -> None:
    found = services()
    assert replicas(found["web"]) > 1
    assert replicas(found["worker"]) > 1
    assert replicas(found["beat"]) == 1
    # Each web replica needs a port of its own on the host.
    (port,) = found["web"]["ports"]
    first, last = (int(number) for number in port["published"].split("-"))
    assert last - first + 1 >= replicas(found["web"])
    # They share the cache (pages, sign-in throttling) through Redis, not each its own.
    for name in ("web", "worker", "beat"):
        assert found[name]["environment"]["CACHE_URL"].startswith("rediscache://redis:")


def test_only_the_one_off_migration_holds_the_owner_s_password() -> None:
    found = services()
    for name in ("web", "worker", "beat", "pgbouncer"):
        environment = found[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://microsolidarity_app:app-secret@")
        assert "DATABASE_OWNER_URL" not in environment
        assert "owner-secret" not in json.dumps(found[name])
    migrate = found["migrate"]
    assert migrate["environment"]["DATABASE_OWNER_URL"].startswith(
        "postgres://microsolidarity_owner:owner-secret@"
    )
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert found["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_a_missing_secret_key_is_refused() -> None:
    env = {**{k: v for k, v in os.environ.items() if k != "SECRET_KEY"}, **SECRETS}
    del env["SECRET_KEY"]
    result = subprocess.run(
        [str(BINARY), "-f", "docker-compose.yml", "config", "-q"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
