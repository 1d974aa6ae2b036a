"""A query compiled once and bound anew (microsolidarity.compiled) finds what building it
each time finds: other ids, another moment, another congregation in scope; run through
Django's cursor, or prepared on a connection that keeps prepared statements."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet, Value
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import ScopeError, scopes_disabled

from congregations.models import Congregation, Self
from congregations.tenancy import across_congregations, tenant
from crews.models import Crew, CrewMembership, Meeting
from crews.services import form_crew
from microsolidarity.compiled import Compiled
from tests.builders import scheduled_meeting
from tests.factories import CongregationFactory, MembershipFactory

pytestmark = pytest.mark.django_db
# Only PostgreSQL compiles: SQLite builds each query anew.
on_postgresql = pytest.mark.skipif("connection.vendor != 'postgresql'")


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


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
    two_crews: tuple[Crew, Crew], congregation: Congregation, prepared: bool
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


def test_the_congregation_in_scope_is_bound_too(
    crew: Crew, congregation: Congregation, prepared: bool
) -> None:
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


@on_postgresql
def test_the_database_wall_holds_one_statement_run_in_and_out_of_the_door(
    crew: Crew, congregation: Congregation, prepared: bool
) -> None:
    """The same statement (no congregation in scope) run by the runtime role behind no
    congregation sees nothing, through the door sees every congregation, and then behind
    no congregation again sees nothing: a plan made for the crossing role, which row-level
    security lets through, is not kept for the role it holds back."""
    now = timezone.now()
    ours = scheduled_meeting(crew, now + timedelta(days=1))
    compiled = Compiled(upcoming)

    with transaction.atomic(), scopes_disabled():
        assert compiled.rows(now, [crew.pk]) == []
    with across_congregations():
        assert compiled.rows(now, [crew.pk]) == [(ours.pk, crew.pk)]
    with transaction.atomic(), scopes_disabled():
        assert compiled.rows(now, [crew.pk]) == []
    assert len(compiled.compiled) == 1


@on_postgresql
def test_an_id_written_into_the_sql_itself_is_refused(member: Self) -> None:
    def inlined(now: datetime, ids: list[int]) -> QuerySet[Any]:
        return Self.objects.annotate(seen=RawSQL(str(ids[0]), [])).values_list("pk")

    with scopes_disabled(), pytest.raises(ValueError, match="as a parameter"):
        Compiled(inlined).rows(timezone.now(), [member.pk])


def meetings_with_crew(now: datetime, crews: list[int]) -> QuerySet[Meeting]:
    """The crews' meetings of the next week as instances, each with its crew and a count."""
    return (
        Meeting.objects.filter(crew_id__in=crews, starts_at__gte=now)
        .select_related("crew")
        .annotate(days=Value(7))
        .order_by("pk")
    )


def as_read(meetings: list[Meeting]) -> list[tuple[str, object, int]]:
    return [(m.crew.name, m.timezone, m.days) for m in meetings]  # type: ignore[attr-defined]


def test_objects_are_the_instances_iterating_the_query_makes(
    two_crews: tuple[Crew, Crew], congregation: Congregation, prepared: bool
) -> None:
    first, second = two_crews
    now = timezone.now()
    ours = scheduled_meeting(first, now + timedelta(days=2))
    theirs = scheduled_meeting(second, now + timedelta(days=3))
    compiled = Compiled(meetings_with_crew)

    with tenant(congregation):
        for crews in ([first.pk], [second.pk], [first.pk, second.pk]):
            found = compiled.objects(now, crews)
            built = list(meetings_with_crew(now, crews))
            assert found == built
            # What the fields read from the database, converted as the ORM converts it.
            assert as_read(found) == as_read(built)
        assert compiled.objects(now, [second.pk]) == [theirs]
        assert compiled.objects(now + timedelta(days=2, hours=1), [first.pk]) == []
        assert compiled.objects(now, [first.pk])[0].crew == ours.crew


def test_no_ids_no_rows_and_no_query(crew: Crew, congregation: Congregation) -> None:
    with tenant(congregation), CaptureQueriesContext(connection) as ran:
        assert Compiled(meetings_with_crew).objects(timezone.now(), []) == []
        assert Compiled(upcoming).rows(timezone.now(), []) == []
    assert len(ran) == 0


@on_postgresql
def test_objects_need_a_query_of_instances(crew: Crew, congregation: Congregation) -> None:
    with tenant(congregation), pytest.raises(ValueError, match="model instances"):
        Compiled(upcoming).objects(timezone.now(), [crew.pk])


@on_postgresql
def test_a_statement_is_prepared_once_where_the_connection_keeps_it(
    crew: Crew, congregation: Congregation, prepared: bool
) -> None:
    """Prepared, each shape is parsed and planned once per connection and then run by
    name; otherwise nothing is left on the server for another client to miss (PgBouncer
    before 1.22 in transaction pooling)."""

    def seated(now: datetime, crews: list[int]) -> QuerySet[Any]:
        # A query of this test alone: the connection's other statements are not counted.
        return CrewMembership.objects.filter(crew_id__in=crews).values_list("member_id", "crew_id")

    compiled = Compiled(seated)
    with tenant(congregation):
        for _ in range(3):
            assert len(compiled.rows(timezone.now(), [crew.pk])) == crew.memberships.count()
        # Its SQL up to the first value, which the server numbers ($1) where psycopg binds.
        (statement,) = compiled.compiled.values()
        start = statement[1].split("%s")[0] if statement else "never"
        ours = [sql for sql in prepared_statements() if sql.startswith(start)]

    assert len(ours) == (1 if prepared else 0)


@on_postgresql
def test_no_scope_at_all_is_refused_even_after_a_call_through_the_door(
    crew: Crew, congregation: Congregation
) -> None:
    """django-scopes refuses a tenant query with no congregation in scope (the Python
    wall). The door's unscoped statement, once compiled, is not run for a call made
    outside any scope: that call is built, and refused, as any query there is."""
    now = timezone.now()
    scheduled_meeting(crew, now + timedelta(days=1))
    compiled = Compiled(upcoming)

    with pytest.raises(ScopeError):
        compiled.rows(now, [crew.pk])
    with across_congregations():
        assert len(compiled.rows(now, [crew.pk])) == 1
    with pytest.raises(ScopeError):
        compiled.rows(now, [crew.pk])


def zones(now: datetime, crews: list[int]) -> QuerySet[Any]:
    return Meeting.objects.filter(crew_id__in=crews).order_by("pk").values_list("pk", "timezone")


@pytest.mark.embedded
def test_rows_are_converted_as_iterating_the_query_converts_them(
    crew: Crew, congregation: Congregation, prepared: bool
) -> None:
    """A timezone comes back a ZoneInfo, not its name, on either database."""
    now = timezone.now()
    scheduled_meeting(crew, now + timedelta(days=1))
    with tenant(congregation):
        built = list(zones(now, [crew.pk]))
        found = Compiled(zones).rows(now, [crew.pk])

    assert found == built
    assert isinstance(found[0][1], ZoneInfo)


@on_postgresql
def test_a_compiled_query_cannot_prefetch(crew: Crew, congregation: Congregation) -> None:
    """Iterating a query prefetches after reading its rows, which a compiled one never
    does: refused, rather than each instance querying again."""

    def with_members(now: datetime, crews: list[int]) -> QuerySet[Meeting]:
        return Meeting.objects.filter(crew_id__in=crews).prefetch_related("crew__memberships")

    with tenant(congregation), pytest.raises(ValueError, match="prefetch_related"):
        Compiled(with_members).objects(timezone.now(), [crew.pk])


@on_postgresql
def test_a_rolled_back_request_leaves_the_next_one_its_statement(
    crew: Crew, congregation: Congregation, prepared: bool
) -> None:
    """A view that raises rolls its transaction back, after which psycopg forgets what it
    prepared (DEALLOCATE ALL): the next request prepares the statement again and finds
    the same rows."""
    now = timezone.now()
    ours = scheduled_meeting(crew, now + timedelta(days=1))
    compiled = Compiled(upcoming)

    with pytest.raises(RuntimeError), tenant(congregation):
        assert compiled.rows(now, [crew.pk]) == [(ours.pk, crew.pk)]
        raise RuntimeError("the view failed")
    with tenant(congregation):
        assert compiled.rows(now, [crew.pk]) == [(ours.pk, crew.pk)]
        assert compiled.rows(now, [crew.pk]) == [(ours.pk, crew.pk)]
