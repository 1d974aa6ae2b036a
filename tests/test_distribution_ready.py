"""The schema stays ready to be distributed by congregation (issue 20, item 5).

Past one PostgreSQL, the tenant tables would be spread over several by ``congregation_id``
(Citus's distribution column): then every table needs the column, and a congregation's
rows are found on its node by an index that starts with it. Read from PostgreSQL's own
catalog, which the runtime role may read, for every tenant model the app registry knows,
so that a new one is held to it without anyone remembering."""

from __future__ import annotations

import pytest
from django.db import connection

from congregations.models import TenantOwned
from congregations.rls import tenant_models

COLUMN = "congregation_id"


def leading_columns(table: str) -> dict[str, str]:
    """Each index (a unique constraint's too) on ``table``: its name, and its first column
    (none for an index whose first key is an expression)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT index.relname, coalesce(attribute.attname, '') "
            "FROM pg_index i "
            "JOIN pg_class index ON index.oid = i.indexrelid "
            "LEFT JOIN pg_attribute attribute "
            "  ON attribute.attrelid = i.indrelid AND attribute.attnum = i.indkey[0] "
            "WHERE i.indrelid = %s::regclass",
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


@pytest.mark.parametrize("model", tenant_models(), ids=lambda model: model._meta.label)
def test_every_tenant_table_has_the_congregation_and_an_index_that_starts_with_it(
    db: None, model: type[TenantOwned]
) -> None:
    table = model._meta.db_table
    assert COLUMN in columns(table)
    starting_with_it = [name for name, first in leading_columns(table).items() if first == COLUMN]
    assert starting_with_it, f"{table} has no index whose first column is {COLUMN}"


def test_an_index_counts_only_when_the_congregation_is_its_first_column(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE sample (id int PRIMARY KEY, kind text, congregation_id int)"
        )
        cursor.execute("CREATE INDEX sample_kind_first ON sample (kind, congregation_id)")
        cursor.execute("CREATE INDEX sample_by_lower_kind ON sample (lower(kind), id)")
        cursor.execute("CREATE INDEX sample_congregation_first ON sample (congregation_id, kind)")
    assert leading_columns("sample") == {
        "sample_pkey": "id",
        "sample_kind_first": "kind",
        "sample_by_lower_kind": "",
        "sample_congregation_first": COLUMN,
    }
