"""Long lists of values in a query, as PostgreSQL reads them fastest."""

from __future__ import annotations

from typing import TypeVar

from django.db import connection
from django.db.models.expressions import RawSQL

T = TypeVar("T", int, str)
SQL_TYPES = {int: "bigint", str: "text"}


def one_of(values: list[T]) -> list[T] | RawSQL:
    """For ``field__in=``: on PostgreSQL the values travel as one array parameter, since
    psycopg spends longer splitting a statement with thousands of placeholders than the
    database spends running it; elsewhere (SQLite, whose batches are small) as a list."""
    if connection.vendor != "postgresql" or not values:
        return values
    return RawSQL(f"SELECT unnest(%s::{SQL_TYPES[type(values[0])]}[])", [values])
