"""Long lists of values in a query, as PostgreSQL reads them fastest."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet, Subquery
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


class _Any(Func):
    """``expression = ANY(array)``, as a condition to filter by."""

    arg_joiner = " = ANY("
    template = "%(expressions)s)"
    output_field = BooleanField()


def among(field: str, values: list[int]) -> Q | _Any:
    """``field`` is one of ``values``, for ``filter()``: on PostgreSQL ``field =
    ANY(array)``, which the planner sizes by the array's length and answers through an
    index on ``field`` (a few thousand lookups), where ``IN (SELECT unnest(…))`` may read a
    whole partial index to join it; elsewhere a plain ``IN``."""
    if connection.vendor != "postgresql" or not values:
        return Q(**{f"{field}__in": values})
    return _Any(F(field), RawSQL("%s::bigint[]", [values]))


def among_found(field: str, found: QuerySet[Any]) -> Q | _Any:
    """``field`` is one of the values ``found`` (a query of one column) selects: on
    PostgreSQL ``field = ANY(ARRAY(…))``, read once before the outer rows and answered
    through an index on ``field``, where ``IN`` or ``EXISTS`` is a semi-join that the
    planner weighs against every order of joining the query's tables (in what waits for
    a Self, a third of one SELECT's cost); elsewhere a plain ``IN``."""
    if connection.vendor != "postgresql":
        return Q(**{f"{field}__in": found})
    return _Any(F(field), Func(Subquery(found), function="ARRAY"))
