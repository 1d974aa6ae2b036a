"""A query compiled once and bound anew (microsolidarity.compiled) finds what building it
each time finds: other ids, another moment, another congregation in scope."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from congregations.models import Congregation, Self
from congregations.tenancy import across_congregations, tenant
from crews.models import Crew, Meeting
from crews.services import form_crew
from microsolidarity.compiled import Compiled
from tests.builders import scheduled_meeting
from tests.factories import CongregationFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def upcoming(now: datetime, crews: list[int]) -> QuerySet[Any]:
    """The crews' meetings of the next week."""
    return (
        Meeting.objects.filter(crew_id__in=crews, starts_at__gte=now)
        .filter(starts_at__lt=now + timedelta(days=7))
        .order_by("pk")
        .values_list("pk", "crew_id")
    )


def form_crew_of(congregation: Congregation, size: int) -> Crew:
    return form_crew(
        congregation=congregation,
        name=f"A crew of {congregation.name}",
        members=[MembershipFactory.create(congregation=congregation).member for _ in range(size)],
        now=timezone.now() - timedelta(days=30),
    )


@pytest.fixture
def two_crews(crew: Crew, congregation: Congregation) -> tuple[Crew, Crew]:
    return crew, form_crew_of(congregation, 3)


def test_each_call_finds_what_building_the_query_anew_finds(
    two_crews: tuple[Crew, Crew], congregation: Congregation
) -> None:
    first, second = two_crews
    now = timezone.now()
    soon = [scheduled_meeting(crew, now + timedelta(days=2)) for crew in two_crews]
    later = scheduled_meeting(second, now + timedelta(days=10))
    compiled = Compiled(upcoming)

    with tenant(congregation):
        for crews, moment in [
            ([first.pk], now),
            ([second.pk], now),  # bound: the same shape
            ([second.pk], now + timedelta(days=5)),  # another moment
            ([first.pk, second.pk], now),  # another shape
        ]:
            assert compiled.rows(moment, crews) == list(upcoming(moment, crews))
        assert compiled.rows(now, [second.pk]) == [(soon[1].pk, second.pk)]
        assert compiled.rows(now + timedelta(days=5), [second.pk]) == [(later.pk, second.pk)]
    if connection.vendor == "postgresql":
        assert len(compiled.compiled) == 2


def test_the_congregation_in_scope_is_bound_too(crew: Crew, congregation: Congregation) -> None:
    """Compiled in one congregation, run in another: it sees the other's rows only."""
    now = timezone.now()
    ours = scheduled_meeting(crew, now + timedelta(days=1))
    elsewhere = CongregationFactory.create(name="Elsewhere")
    theirs_crew = form_crew_of(elsewhere, 3)
    theirs = scheduled_meeting(theirs_crew, now + timedelta(days=1))
    compiled = Compiled(upcoming)
    both = [crew.pk, theirs_crew.pk]

    with tenant(congregation):
        assert compiled.rows(now, both) == [(ours.pk, crew.pk)]
    with tenant(elsewhere):
        assert compiled.rows(now, both) == [(theirs.pk, theirs_crew.pk)]
    with across_congregations():
        assert compiled.rows(now, both) == [(ours.pk, crew.pk), (theirs.pk, theirs_crew.pk)]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_an_id_written_into_the_sql_itself_is_refused(member: Self) -> None:
    def inlined(now: datetime, ids: list[int]) -> QuerySet[Any]:
        return Self.objects.annotate(seen=RawSQL(str(ids[0]), [])).values_list("pk")

    with pytest.raises(ValueError, match="as a parameter"):
        Compiled(inlined).rows(timezone.now(), [member.pk])
