"""The ledger's append-only guard as a full ``migrate`` leaves it: on SQLite, where a
later migration rebuilt the table and lost the triggers until 0006 made them again, and
on a database the guard does not know, where migrating stops. Each migrate runs in its
own process on a fresh file, as `make run` would."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from django.conf import settings

DATABASE = "microsolidarity.sqlite3"
GUARD = {"reciprocity_ledger_no_update", "reciprocity_ledger_no_delete"}
ENTRY = """
INSERT INTO reciprocity_ledgerentry (congregation_id, member_id, level, rule, points, reason,
    occurred_at, recorded_at, idempotency_key)
VALUES (1, 1, 5, 'co_owned', 100, 'Co-owns a venture', '2026-01-01 00:00:00',
    '2026-01-01 00:00:00', 'guard')
"""
TAMPERING = {
    "UPDATE": "UPDATE reciprocity_ledgerentry SET points = 1000",
    "DELETE": "DELETE FROM reciprocity_ledgerentry",
}

# A database Django drives exactly as it drives SQLite, under a name the guard does not know.
UNGUARDED_BACKEND = """
from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    vendor = "unguarded"
"""
UNGUARDED_SETTINGS = """
from microsolidarity.settings import *  # noqa: F403

DATABASES["default"]["ENGINE"] = "unguarded"  # noqa: F405
"""


def migrate(
    data: Path, *args: str, settings_module: str = "microsolidarity.settings"
) -> subprocess.CompletedProcess[str]:
    """``manage.py migrate`` in the embedded setup (SQLite in ``data``), in its own process."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DEBUG", "SECRET_KEY"}
    }
    env |= {
        "DEBUG": "true",  # as `make run` sets it
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATA_DIR": str(data),
        "PYTHONPATH": str(data),
    }
    return subprocess.run(
        [sys.executable, "manage.py", "migrate", *args, "--noinput"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def triggers(database: Path) -> set[str]:
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute(
            "SELECT name FROM sqlite_master"
            " WHERE type = 'trigger' AND tbl_name = 'reciprocity_ledgerentry'"
        ).fetchall()
    return {name for (name,) in rows}


@pytest.fixture(scope="module")
def migrated_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh SQLite file after a full ``migrate``."""
    data = tmp_path_factory.mktemp("migrated")
    result = migrate(data)
    assert result.returncode == 0, result.stderr
    return data / DATABASE


@pytest.fixture
def data(migrated_file: Path, tmp_path: Path) -> Path:
    """A data folder of this test's own, holding a copy of the migrated file."""
    shutil.copy(migrated_file, tmp_path / DATABASE)
    return tmp_path


def test_after_a_full_migrate_sqlite_refuses_to_change_or_delete_a_ledger_entry(
    data: Path,
) -> None:
    database = data / DATABASE
    assert triggers(database) == GUARD

    # A bare connection, not the app's: the guard holds whoever asks. It does not check
    # foreign keys unless told to, so the entry needs no congregation or member rows.
    with closing(sqlite3.connect(database)) as connection:
        with connection:
            connection.execute(ENTRY)
        for operation, statement in TAMPERING.items():
            with (
                pytest.raises(sqlite3.IntegrityError, match=f"append-only: {operation} is not"),
                connection,
            ):
                connection.execute(statement)
        points = connection.execute("SELECT points FROM reciprocity_ledgerentry").fetchall()
    assert points == [(100,)]


def test_the_guard_is_made_again_each_time_its_migration_runs(data: Path) -> None:
    assert migrate(data, "reciprocity", "0005").returncode == 0
    assert migrate(data).returncode == 0

    assert triggers(data / DATABASE) == GUARD


def test_migrating_a_database_the_guard_does_not_know_is_refused(data: Path) -> None:
    assert migrate(data, "reciprocity", "0005").returncode == 0
    (data / "unguarded").mkdir()
    (data / "unguarded" / "__init__.py").touch()
    (data / "unguarded" / "base.py").write_text(UNGUARDED_BACKEND)
    (data / "unguarded_settings.py").write_text(UNGUARDED_SETTINGS)

    result = migrate(data, settings_module="unguarded_settings")

    assert result.returncode != 0
    assert "only PostgreSQL and SQLite have a guard" in result.stderr
    assert "this database is unguarded" in result.stderr
    with closing(sqlite3.connect(data / DATABASE)) as connection:
        applied = connection.execute(
            "SELECT 1 FROM django_migrations"
            " WHERE app = 'reciprocity' AND name = '0006_ledger_guard_after_rebuilds'"
        ).fetchall()
    assert not applied
