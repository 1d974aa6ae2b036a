"""The bench's own PostgreSQL database: created when missing, dropped by --fresh, by the
schema's owner (BENCH_DATABASE_OWNER_URL), who owns it; the runtime role may do neither."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.core.cache import caches
from django.core.management.base import CommandError
from django.db import connections
from psycopg import sql

from congregations.rls import as_owner

from .rows import TABLES

# The data set four times larger (issue 20): on the same server, as the same roles, in a
# database of its own (BENCH_GROWN_DATABASE), so both are measured in one run.
GROWTH = 4


def grown_name() -> str:
    return os.environ.get("BENCH_GROWN_DATABASE", f"{name()}_{GROWTH}x")


def require_postgresql() -> None:
    """The bench loads with COPY and measures what production runs on."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise CommandError("The scale benchmark needs PostgreSQL: set BENCH_DATABASE_URL.")


def name() -> str:
    return str(settings.DATABASES["default"]["NAME"])


@contextmanager
def named(database: str) -> Iterator[None]:
    """The bench on the database ``database`` (same server, same roles) for the block, then
    on its own again, as Django's test runner moves to its test database. The cache is
    emptied both ways: its keys name rows by id and version, which the other data set
    holds too."""
    connection = connections["default"]
    before = connection.settings_dict["NAME"]
    connections.close_all()
    _empty_caches()
    connection.settings_dict["NAME"] = database
    try:
        yield
    finally:
        connections.close_all()
        _empty_caches()
        connection.settings_dict["NAME"] = before


def _empty_caches() -> None:
    # The versions and what pages render and share (settings.CACHES["rendered"]).
    for alias in settings.CACHES:
        caches[alias].clear()


def _server() -> psycopg.Connection:
    """The server's maintenance database, as the owner: where databases are made and
    dropped."""
    config = settings.DATABASE_OWNER or settings.DATABASES["default"]
    return psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def _exists(admin: psycopg.Connection) -> bool:
    return bool(admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name()]).fetchone())


def exists() -> bool:
    with _server() as admin:
        return _exists(admin)


def ensure(*, fresh: bool = False) -> bool:
    """Create the bench database if it is missing (drop it first when ``fresh``); True when
    it was created."""
    connections.close_all()
    with _server() as admin:
        database = sql.Identifier(name())
        if fresh:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        if _exists(admin):
            return False
        admin.execute(sql.SQL("CREATE DATABASE {}").format(database))
        return True


def row_counts() -> dict[str, int]:
    """Rows in each table the generator writes (exact: a count over the ledger takes a
    second, and the report is worth it). Counted as the owner, whom row-level security
    lets see every congregation: the runtime role sees none outside one's walls."""
    counts = {}
    with as_owner() as connection, connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table.name}")
            counts[table.name] = cursor.fetchone()[0]
    return counts
