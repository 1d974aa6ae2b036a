"""An EXISTS checked for each row (microsolidarity.row_checks) finds what a joined one
finds, negated too, and PostgreSQL keeps it out of the join search."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews.models import Crew, CrewMembership
from microsolidarity.row_checks import RowCheck

from .test_compiled import form_crew_of

pytestmark = pytest.mark.django_db


def crews_of(member: Self, check: type[Exists], *, negated: bool = False) -> QuerySet[Any]:
    seat = CrewMembership.objects.filter(crew=OuterRef("pk"), member=member, left_at__isnull=True)
    found = check(seat)
    return (
        Crew.objects.filter(~found if negated else found)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@pytest.mark.embedded
def test_a_row_check_finds_what_exists_finds(
    crew: Crew, member: Self, congregation: Congregation
) -> None:
    other = form_crew_of(congregation, 3)
    with tenant(congregation):
        assert list(crews_of(member, RowCheck)) == list(crews_of(member, Exists)) == [crew.pk]
        assert list(crews_of(member, RowCheck, negated=True)) == [other.pk]
        assert list(crews_of(member, Exists, negated=True)) == [other.pk]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite plans no semi-join")
def test_postgresql_checks_each_row_instead_of_joining(
    crew: Crew, member: Self, congregation: Congregation
) -> None:
    with tenant(congregation):
        joined = crews_of(member, Exists).explain()
        checked = crews_of(member, RowCheck).explain()
    assert "Semi Join" in joined and "SubPlan" not in joined
    assert "SubPlan" in checked and "Semi Join" not in checked
