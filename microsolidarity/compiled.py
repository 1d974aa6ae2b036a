"""A query the ORM builds and compiles once, then runs with each request's own values.

Building a large queryset and compiling it to SQL is Python work that does not depend on
the values in it: what waits for a Self, a union of eight selects, took longer to build
than PostgreSQL took to plan and run it. So it is built once per shape (how many ids of
each kind it holds) with stand-in values, ids no row has and a moment of its own, and
each later run swaps the real values into the compiled parameters: an id for its
stand-in, and every time by its distance from the stand-in moment. Every time in such a
query must therefore be counted from ``now``, as "what waits" is. The congregation in
scope, which django-scopes writes into every tenant query (congregations.scoping), is one
more id: the query is compiled with a stand-in in scope.

Only on PostgreSQL: SQLite's backend turns times into text as it compiles them, so there
the query is built each time, as any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any, Self

import psycopg
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.backends.utils import CursorWrapper
from django.db.models import QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]
from django.db.models.sql.compiler import SQLCompiler
from django_scopes import get_scope, scope

# Ids no row has (they count down from here), and the moment stand-in times count from.
FIRST_STAND_IN = -(10**12)
STAND_IN_NOW = datetime(2000, 1, 1, tzinfo=UTC)

Build = Callable[..., QuerySet[Any]]
# The compiler (what its rows hold), its SQL, its parameters, and the stand-ins among them.
Statement = tuple[SQLCompiler, str, tuple[Any, ...], list[int]]


class Compiled:
    """``build(now, *groups)``'s rows, or its model instances, where each group is a list
    of ids: compiled for the first call with as many ids in each group, bound for every
    call after."""

    def __init__(self, build: Build) -> None:
        self.build = build
        # None for a shape that can match no row (an empty group, as ``pk__in=[]``).
        self.compiled: dict[tuple[int, ...], Statement | None] = {}

    def rows(self, now: datetime, *groups: Sequence[int]) -> list[tuple[Any, ...]]:
        """The rows of a ``values_list`` query, each value converted as its field reads
        it from the database (a timezone, a JSON document), as iterating it would."""
        ran = self._run(now, groups)
        if ran is None:
            return list(self.build(now, *map(list, groups)))
        compiler, rows = ran
        return [tuple(row) for row in compiler.results_iter(_chunk(rows))] if compiler else []

    def objects(self, now: datetime, *groups: Sequence[int]) -> list[Any]:
        """The model instances of a query of them, with the relations it selects and
        the annotations it adds, as iterating over the query would make them."""
        ran = self._run(now, groups)
        if ran is None:
            return list(self.build(now, *map(list, groups)))
        compiler, rows = ran
        return list(_instances(compiler, rows)) if compiler else []

    def _run(
        self, now: datetime, groups: Sequence[Sequence[int]]
    ) -> tuple[SQLCompiler | None, list[tuple[Any, ...]]] | None:
        """The compiled statement run with this call's values: its compiler and its rows;
        None where the query is built each time instead."""
        current = get_scope()
        # Outside any scope the query is built, for django-scopes to refuse it as it
        # refuses any tenant query there; a scope disabled (the door) is a shape of its own.
        if "_enabled" not in current or connection.vendor != "postgresql":
            return None
        in_scope = current.get("congregation") if current["_enabled"] else None
        if not isinstance(in_scope, int | None):
            return None
        # The shape: the ids in each group, then whether a congregation is in scope.
        shape = (*(len(group) for group in groups), in_scope is not None)
        if shape not in self.compiled:
            self.compiled[shape] = self._compile(shape)
        statement = self.compiled[shape]
        if statement is None:
            return None, []
        compiler, sql, params, stand_ins = statement
        ids = [id_ for group in groups for id_ in group]
        if in_scope is not None:
            ids.append(in_scope)
        real = dict(zip(stand_ins, ids, strict=True))
        with _cursor() as cursor:
            cursor.execute(sql, [_bound(value, real, now) for value in params])
            return compiler, cursor.fetchall()

    def _compile(self, shape: tuple[int, ...]) -> Statement | None:
        *sizes, scoped = shape
        stand_ins = [FIRST_STAND_IN - n for n in range(sum(sizes) + scoped)]
        groups, taken = [], 0
        for size in sizes:
            groups.append(stand_ins[taken : taken + size])
            taken += size
        with scope(congregation=stand_ins[-1]) if scoped else nullcontext():
            queryset = self.build(STAND_IN_NOW, *groups)
            # Iterating a query prefetches after its rows are read, which a compiled one
            # never does: refused, rather than each instance querying again.
            if queryset._prefetch_related_lookups:  # type: ignore[attr-defined]
                raise ValueError("A compiled query cannot prefetch_related().")
            compiler = queryset.query.get_compiler(DEFAULT_DB_ALIAS)
            try:
                # Compiling also sets what its rows hold (compiler.select, klass_info).
                sql, params = compiler.as_sql()
            except EmptyResultSet:
                return None
        # A stand-in written into the SQL itself, not passed as a parameter, could not be
        # swapped: refuse such a query rather than run it with the stand-in.
        missing = set(stand_ins) - set(params)
        if missing or any(str(stand_in) in sql for stand_in in stand_ins):
            raise ValueError("Every id must reach the compiled query as a parameter.")
        return compiler, sql, params, stand_ins


class _Prepared(psycopg.Cursor[tuple[Any, ...]]):
    """Binds its values on the server and has every statement prepared on its connection
    (psycopg keeps them, the most used first, and closes those it drops)."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Self:
        return super().execute(query, params, prepare=True)


def _cursor() -> CursorWrapper:
    """A cursor for a compiled statement: one that prepares it where the connection keeps
    prepared statements (settings.DATABASE_PREPARED_STATEMENTS), Django's otherwise;
    logged with the others either way."""
    if not settings.DATABASE_PREPARED_STATEMENTS:
        return connection.cursor()
    # What Django's connection.cursor() does before making its own.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    # Django's wrappers take psycopg's cursor, whatever its stubs say.
    prepared: Any = _Prepared(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(prepared)
    return connection.make_cursor(prepared)


def _instances(compiler: SQLCompiler, rows: list[tuple[Any, ...]]) -> Iterator[Any]:
    """What Django's ModelIterable makes of the rows of ``compiler``'s query: each row's
    instance, its related instances, its annotations; each value converted as the field
    reads it from the database (a JSON document, a timezone)."""
    if not compiler.query.default_cols:  # values() or values_list() chose the columns
        raise ValueError("objects() is for a query of model instances; rows() reads values.")
    select, klass_info = compiler.select, compiler.klass_info
    first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    names = [column[0].target.attname for column in select[first:last]]
    related = get_related_populators(klass_info, select, compiler.using)
    for row in compiler.results_iter(_chunk(rows)):
        instance = klass_info["model"].from_db(compiler.using, names, row[first:last])
        for populator in related:
            populator.populate(row, instance)
        for name, position in compiler.annotation_col_map.items():
            setattr(instance, name, row[position])
        yield instance


def _bound(value: Any, real: dict[int, int], now: datetime) -> Any:
    if isinstance(value, datetime):
        return now + (value - STAND_IN_NOW)
    if isinstance(value, int) and value in real:
        return real[value]
    return value


def _chunk(rows: list[tuple[Any, ...]]) -> list[list[Sequence[Any]]]:
    """The rows as one chunk of what Django's compiler fetches, for its results_iter."""
    return [list(rows)]
