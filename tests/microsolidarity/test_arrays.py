"""Lists of values in a query (microsolidarity.arrays): ``among`` and ``among_found`` find
what ``IN`` finds, and on PostgreSQL compare with ANY of one array."""

from __future__ import annotations

import pytest
from django.db import connection

from congregations.models import Congregation, Membership, Self
from congregations.tenancy import tenant
from microsolidarity.arrays import among, among_found

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


@pytest.mark.embedded
def test_among_found_finds_what_in_finds(congregation: Congregation) -> None:
    people = [MembershipFactory.create(congregation=congregation) for _ in range(4)]
    with tenant(congregation):
        facilitators = Membership.objects.filter(pk__in=[people[1].pk, people[2].pk])
        found = Self.objects.filter(among_found("pk", facilitators.values("member_id")))
        nobody = Self.objects.filter(among_found("pk", facilitators.filter(pk=-1).values("pk")))

        assert set(found) == {people[1].member, people[2].member}
        assert not nobody


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's arrays")
def test_among_found_reads_the_values_once_into_an_array(congregation: Congregation) -> None:
    """Not a semi-join for the planner to weigh against every order of joining."""
    with tenant(congregation):
        members = Membership.objects.values("member_id")
        sql, _ = (
            Self.objects.filter(among_found("pk", members)).values("pk").query.sql_with_params()
        )

    assert '"congregations_self"."id" = ANY(ARRAY((SELECT' in sql
    assert " IN (" not in sql and "EXISTS" not in sql
