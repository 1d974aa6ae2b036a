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

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django_scopes import get_scope, scope

# Ids no row has (they count down from here), and the moment stand-in times count from.
FIRST_STAND_IN = -(10**12)
STAND_IN_NOW = datetime(2000, 1, 1, tzinfo=UTC)

Build = Callable[..., QuerySet[Any]]


class Compiled:
    """``build(now, *groups)``'s rows, where each group is a list of ids: compiled for the
    first call with as many ids in each group, bound for every call after."""

    def __init__(self, build: Build) -> None:
        self.build = build
        self.compiled: dict[tuple[int, ...], tuple[str, tuple[Any, ...], list[int]]] = {}

    def rows(self, now: datetime, *groups: Sequence[int]) -> list[tuple[Any, ...]]:
        in_scope = get_scope().get("congregation") if get_scope().get("_enabled") else None
        if connection.vendor != "postgresql" or not isinstance(in_scope, int | None):
            return list(self.build(now, *map(list, groups)))
        # The shape: the ids in each group, then whether a congregation is in scope.
        shape = (*(len(group) for group in groups), in_scope is not None)
        if shape not in self.compiled:
            self.compiled[shape] = self._compile(shape)
        sql, params, stand_ins = self.compiled[shape]
        ids = [id_ for group in groups for id_ in group]
        if in_scope is not None:
            ids.append(in_scope)
        real = dict(zip(stand_ins, ids, strict=True))
        with connection.cursor() as cursor:
            cursor.execute(sql, [_bound(value, real, now) for value in params])
            return cursor.fetchall()

    def _compile(self, shape: tuple[int, ...]) -> tuple[str, tuple[Any, ...], list[int]]:
        *sizes, scoped = shape
        stand_ins = [FIRST_STAND_IN - n for n in range(sum(sizes) + scoped)]
        groups, taken = [], 0
        for size in sizes:
            groups.append(stand_ins[taken : taken + size])
            taken += size
        with scope(congregation=stand_ins[-1]) if scoped else nullcontext():
            sql, params = self.build(STAND_IN_NOW, *groups).query.sql_with_params()
        # A stand-in written into the SQL itself, not passed as a parameter, could not be
        # swapped: refuse such a query rather than run it with the stand-in.
        missing = set(stand_ins) - set(params)
        if missing or any(str(stand_in) in sql for stand_in in stand_ins):
            raise ValueError("Every id must reach the compiled query as a parameter.")
        return sql, params, stand_ins


def _bound(value: Any, real: dict[int, int], now: datetime) -> Any:
    if isinstance(value, datetime):
        return now + (value - STAND_IN_NOW)
    if isinstance(value, int) and value in real:
        return real[value]
    return value
