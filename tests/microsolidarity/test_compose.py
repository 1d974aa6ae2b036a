"""docker-compose.yml is valid, checked by the compose binary itself (no engine needed)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

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


def test_it_runs_the_database_the_broker_the_web_a_worker_and_one_beat() -> None:
    result = run_compose("config", "--services")
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == ["beat", "db", "migrate", "redis", "web", "worker"]


def test_only_the_one_off_migration_holds_the_owner_s_password() -> None:
    result = run_compose("config", "--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://microsolidarity_app:app-secret@")
        assert "DATABASE_OWNER_URL" not in environment
        assert "owner-secret" not in json.dumps(services[name])
    migrate = services["migrate"]
    assert migrate["environment"]["DATABASE_OWNER_URL"].startswith(
        "postgres://microsolidarity_owner:owner-secret@"
    )
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


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
