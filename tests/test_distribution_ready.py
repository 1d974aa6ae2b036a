"""The schema stays ready to be distributed by congregation (issue 20, item 5;
docs/scaling.md says how).

Past one PostgreSQL, the tenant tables would be spread over several by ``congregation_id``
(Citus's distribution column), with ``Self`` and ``Congregation`` copied to every node
(reference tables). Then every tenant table needs the column, a congregation's rows are
found on its node by an index that starts with it, and foreign keys follow Citus's rule:
a distributed table may point at another distributed table or a reference table, and
nothing else may point at a distributed table. All of it is read from PostgreSQL's own
catalog, which the runtime role may read, for every tenant model the app registry knows,
so that a new one is held to it without anyone remembering; and each check is shown
failing on a table made up for it."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from django.db import connection

from congregations.models import Congregation, Self, TenantOwned
from congregations.rls import tenant_models

COLUMN = "congregation_id"
# Copied whole to every node: every tenant table points at them, and they are small
# (docs/scaling.md, "Reference tables").
REFERENCE_TABLES = frozenset({Congregation._meta.db_table, Self._meta.db_table})


def leading_columns(table: str) -> dict[str, str]:
    """Each whole index (a unique constraint's too) on ``table``: its name, and its first
    column (none for an index whose first key is an expression). A partial index finds
    only the rows its WHERE admits, so it is left out."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT index.relname, coalesce(attribute.attname, '') "
            "FROM pg_index i "
            "JOIN pg_class index ON index.oid = i.indexrelid "
            "LEFT JOIN pg_attribute attribute "
            "  ON attribute.attrelid = i.indrelid AND attribute.attnum = i.indkey[0] "
            "WHERE i.indrelid = %s::regclass AND i.indpred IS NULL",
            [table],
        )
        return dict(cursor.fetchall())


def columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [table],
        )
        return {row[0] for row in cursor.fetchall()}


def distribution_gaps(table: str) -> list[str]:
    """What keeps ``table`` from being distributed by congregation: nothing, or that it
    lacks the column, or an index that leads with it."""
    if COLUMN not in columns(table):
        return [f"{table} has no {COLUMN}"]
    if COLUMN not in leading_columns(table).values():
        return [f"{table} has no whole index whose first column is {COLUMN}"]
    return []


def foreign_keys() -> list[tuple[str, str]]:
    """Every foreign key of the schema, as (the table it is on, the table it points at)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT source.relname, target.relname FROM pg_constraint c "
            "JOIN pg_class source ON source.oid = c.conrelid "
            "JOIN pg_class target ON target.oid = c.confrelid "
            "WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace"
        )
        return cursor.fetchall()


def foreign_key_conflicts(
    keys: Iterable[tuple[str, str]], distributed: set[str], reference: frozenset[str]
) -> list[str]:
    """The foreign keys Citus would refuse: from a distributed table to one that is
    neither distributed nor a reference table, and from any other table to a distributed
    one."""
    conflicts = []
    for source, target in keys:
        if source in distributed and target not in distributed | reference:
            conflicts.append(f"{source} points at {target}, neither distributed nor reference")
        elif source not in distributed and target in distributed:
            conflicts.append(f"{source} points at {target} but is not distributed itself")
    return sorted(conflicts)


@pytest.mark.parametrize("model", tenant_models(), ids=lambda model: model._meta.label)
def test_every_tenant_table_has_the_congregation_and_an_index_that_starts_with_it(
    db: None, model: type[TenantOwned]
) -> None:
    assert distribution_gaps(model._meta.db_table) == []


def test_a_table_without_the_congregation_or_an_index_led_by_it_is_not_ready(
    db: None,
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE no_column (id int PRIMARY KEY, kind text)")
        cursor.execute("CREATE INDEX no_column_kind ON no_column (kind)")
        cursor.execute(
            "CREATE TEMPORARY TABLE no_index (id int PRIMARY KEY, kind text, congregation_id int)"
        )
        # The congregation second, or first only for some rows, does not find its rows.
        cursor.execute("CREATE INDEX no_index_kind_first ON no_index (kind, congregation_id)")
        cursor.execute(
            "CREATE INDEX no_index_partial ON no_index (congregation_id) WHERE kind = 'open'"
        )
        cursor.execute(
            "CREATE TEMPORARY TABLE ready (id int PRIMARY KEY, kind text, congregation_id int)"
        )
        cursor.execute("CREATE INDEX ready_congregation_first ON ready (congregation_id, kind)")
    assert distribution_gaps("no_column") == ["no_column has no congregation_id"]
    assert distribution_gaps("no_index") == [
        "no_index has no whole index whose first column is congregation_id"
    ]
    assert distribution_gaps("ready") == []


def test_an_index_counts_only_when_the_congregation_is_its_first_column(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE sample (id int PRIMARY KEY, kind text, congregation_id int)"
        )
        cursor.execute("CREATE INDEX sample_kind_first ON sample (kind, congregation_id)")
        cursor.execute("CREATE INDEX sample_by_lower_kind ON sample (lower(kind), id)")
        cursor.execute("CREATE INDEX sample_congregation_first ON sample (congregation_id, kind)")
        cursor.execute("CREATE INDEX sample_some ON sample (congregation_id) WHERE kind = 'a'")
    assert leading_columns("sample") == {
        "sample_pkey": "id",
        "sample_kind_first": "kind",
        "sample_by_lower_kind": "",
        "sample_congregation_first": COLUMN,
    }


def test_foreign_keys_are_ones_citus_keeps_with_self_and_congregation_as_reference_tables(
    db: None,
) -> None:
    distributed = {model._meta.db_table for model in tenant_models()}
    keys = foreign_keys()
    # The catalog was read: tenant tables point at each other and at both reference tables.
    assert ("crews_attendance", "crews_meeting") in keys
    assert {target for source, target in keys if source in distributed} >= REFERENCE_TABLES
    assert foreign_key_conflicts(keys, distributed, REFERENCE_TABLES) == []


def test_a_foreign_key_citus_would_refuse_is_named() -> None:
    keys = [
        ("crews_meeting", "crews_crew"),  # distributed to distributed
        ("crews_meeting", "congregations_self"),  # distributed to reference
        ("account_emailaddress", "congregations_self"),  # local to reference
        ("crews_meeting", "django_content_type"),  # distributed to local
        ("congregations_self", "crews_crew"),  # reference to distributed
        ("crews_crew_tags", "crews_crew"),  # a many-to-many table with no congregation
    ]
    distributed = {"crews_meeting", "crews_crew"}
    assert foreign_key_conflicts(keys, distributed, REFERENCE_TABLES) == [
        "congregations_self points at crews_crew but is not distributed itself",
        "crews_crew_tags points at crews_crew but is not distributed itself",
        "crews_meeting points at django_content_type, neither distributed nor reference",
    ]
