"""The bench's own PostgreSQL database: created when missing, dropped by --fresh, by the
schema's owner (BENCH_DATABASE_OWNER_URL), who owns it; the runtime role may do neither."""

from __future__ import annotations

import psycopg
from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections
from psycopg import sql

from congregations.rls import as_owner

from .rows import TABLES


def require_postgresql() -> None:
    """The bench loads with COPY and measures what production runs on."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise CommandError("The scale benchmark needs PostgreSQL: set BENCH_DATABASE_URL.")


def name() -> str:
    return str(settings.DATABASES["default"]["NAME"])


def ensure(*, fresh: bool = False) -> bool:
    """Create the bench database if it is missing (drop it first when ``fresh``); True when
    it was created."""
    config = settings.DATABASE_OWNER or settings.DATABASES["default"]
    connections.close_all()
    with psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        database = sql.Identifier(name())
        if fresh:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name()]).fetchone():
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
