"""Long lists of values in a query (microsolidarity.arrays): ``among`` finds what ``IN``
finds, and on PostgreSQL sends them as one array compared with ANY."""

from __future__ import annotations

import pytest
from django.db import connection

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from microsolidarity.arrays import among

from ..factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.mark.embedded
def test_among_finds_what_in_finds(congregation: Congregation) -> None:
    people = [MembershipFactory.create(congregation=congregation).member for _ in range(5)]
    wanted = [people[0].pk, people[3].pk, -1]

    found = Self.objects.filter(among("pk", wanted)).order_by("pk")

    assert list(found) == list(Self.objects.filter(pk__in=wanted).order_by("pk"))
    assert list(found) == [people[0], people[3]]
    assert not Self.objects.filter(among("pk", []))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's arrays")
def test_among_sends_one_array_compared_with_any(congregation: Congregation) -> None:
    """Not thousands of placeholders, nor a join to unnest: the bench measures what the
    planner makes of it on a table of millions (a batch's claim by the primary key)."""
    wanted = list(range(1, 5001))
    with tenant(congregation):
        sql, params = Self.objects.filter(among("pk", wanted)).values("pk").query.sql_with_params()

    assert sql.endswith('WHERE "congregations_self"."id" = ANY((%s::bigint[]))')
    assert params == (wanted,)
