"""Loading a generated world into PostgreSQL with binary COPY.

Indexes, unique and foreign-key constraints are dropped for the load and rebuilt after
it: building an index once over sorted data is many times faster than maintaining it row
by row, and re-adding a foreign key checks every row in one join, so the data is still
proven consistent by the database itself. It all happens in the caller's transaction,
so a load that fails leaves nothing behind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from .rows import TABLE_OF_ROW, TABLES, Table
from .world import Ids, Rows

# Rows held in memory before they are sent: a few congregations' worth.
FLUSH_ROWS = 200_000


@dataclass
class Suspended:
    """What was dropped for the load, as the statements that put it back."""

    indexes: list[str] = field(default_factory=list)
    foreign_keys: list[str] = field(default_factory=list)


def first_ids(connection: BaseDatabaseWrapper) -> Ids:
    """Ids that continue each table's sequence, so loaded rows never collide with rows the
    app makes later."""
    first = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(
                f"SELECT greatest(nextval(pg_get_serial_sequence(%s, 'id')), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}))",
                [table.name],
            )
            first[table.row] = cursor.fetchone()[0]
    return Ids(first)


def suspend_constraints(connection: BaseDatabaseWrapper, tables: Iterable[Table]) -> Suspended:
    """Drop the secondary indexes, unique and foreign-key constraints of ``tables`` (their
    primary keys and check constraints stay) and return how to rebuild them."""
    suspended = Suspended()
    drops: list[tuple[str, str, str]] = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY conname",
                [table.name],
            )
            for name, kind, definition in cursor.fetchall():
                add = f'ALTER TABLE {table.name} ADD CONSTRAINT "{name}" {definition}'
                (suspended.foreign_keys if kind == "f" else suspended.indexes).append(add)
                # Foreign keys go first: a unique constraint cannot go while one needs it.
                drops.insert(0 if kind == "f" else len(drops), (table.name, name, kind))
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary AND NOT EXISTS ("
                "  SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid"
                "  AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x')"
                ") ORDER BY i.relname",
                [table.name],
            )
            for name, definition in cursor.fetchall():
                suspended.indexes.append(definition)
                drops.append((table.name, name, "i"))
        for table_name, name, kind in drops:
            if kind == "i":
                cursor.execute(f'DROP INDEX "{name}"')
            else:
                cursor.execute(f'ALTER TABLE {table_name} DROP CONSTRAINT "{name}"')
    return suspended


def restore_constraints(connection: BaseDatabaseWrapper, suspended: Suspended) -> None:
    with connection.cursor() as cursor:
        for statement in [*suspended.indexes, *suspended.foreign_keys]:
            cursor.execute(statement)


def copy_rows(connection: BaseDatabaseWrapper, rows: Rows, *, freeze: bool = False) -> None:
    """COPY each table's rows in binary, parents first. FREEZE writes them already
    visible to every transaction (no vacuum needed after), and needs the tables to have
    been truncated in this transaction."""
    options = "FORMAT binary, FREEZE" if freeze else "FORMAT binary"
    with connection.cursor() as cursor:
        raw: Any = cursor.cursor
        for table in TABLES:
            batch = rows.get(table.row)
            if not batch:
                continue
            columns = ", ".join(table.columns())
            with raw.copy(f"COPY {table.name} ({columns}) FROM STDIN ({options})") as copy:
                copy.set_types(table.copy_types())
                for row in batch:
                    copy.write_row(row)


def load(
    connection: BaseDatabaseWrapper,
    congregations: Iterable[Rows],
    *,
    bulk: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Load the generated congregations; returns how many rows went into each table.
    ``bulk`` is for an empty database: the tables are truncated (so COPY can freeze the
    rows) and their indexes and constraints rebuilt after the load."""
    counts: dict[str, int] = defaultdict(int)
    if bulk:
        names = ", ".join(table.name for table in TABLES)
        with connection.cursor() as cursor:
            # Empty tables, checked by the caller: CASCADE reaches only tables that point
            # at them, which are empty too.
            cursor.execute(f"TRUNCATE {names} CASCADE")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("SET LOCAL work_mem = '256MB'")
        suspended = suspend_constraints(connection, TABLES)
    pending: Rows = defaultdict(list)
    held = 0
    for done, rows in enumerate(congregations, start=1):
        for row_type, batch in rows.items():
            pending[row_type].extend(batch)
            counts[TABLE_OF_ROW[row_type].name] += len(batch)
            held += len(batch)
        if held >= FLUSH_ROWS:
            copy_rows(connection, pending, freeze=bulk)
            pending, held = defaultdict(list), 0
        if progress:
            progress(done)
    copy_rows(connection, pending, freeze=bulk)
    if bulk:
        restore_constraints(connection, suspended)
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), max(id)) "
                f"FROM {table.name} HAVING max(id) IS NOT NULL",
                [table.name],
            )
            if bulk:
                cursor.execute(f"ANALYZE {table.name}")
    return dict(counts)
