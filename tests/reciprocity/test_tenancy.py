"""The tenancy guard: every model that carries a congregation is scoped, so a query made
outside any congregation's scope raises instead of reading every tenant's rows.

A test body runs with no congregation in scope, which is where a request or a task would
be if it forgot to enter one; ``scope()`` with no congregation says so explicitly.
``tenant()`` enters a congregation's walls, the scope and the database's setting together,
as a request and a service do."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from django.apps import apps
from django.db import connection, models
from django_scopes import ScopeError, scope

from congregations.models import Congregation, Membership, Self
from congregations.selectors import memberships_of
from congregations.tenancy import tenant
from crews.models import Crew, CrewMembership
from crews.services import form_crew
from reciprocity.models import LedgerEntry, ListeningRound
from reciprocity.services import apply_missed_meeting_deductions, record_listening_round
from tests.builders import GRACE, HOUR, held_meeting, new_members, people, scheduled_meeting

TENANT_MODELS = [
    model
    for app in ("congregations", "crews", "reciprocity")
    for model in apps.get_app_config(app).get_models()
    if any(field.name == "congregation" for field in model._meta.get_fields())
]


def test_the_tenant_models_are_the_ones_expected() -> None:
    names = {model.__name__ for model in TENANT_MODELS}

    assert {"Crew", "Meeting", "Attendance", "LedgerEntry", "Venture"} <= names
    assert "Congregation" not in names


@pytest.mark.django_db
@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("query", ["all", "filter", "count", "get", "exists", "in_bulk"])
def test_a_query_outside_any_scope_raises_a_scope_error(
    model: type[models.Model], query: str
) -> None:
    manager = model._default_manager

    with scope(), pytest.raises(ScopeError):
        if query == "all":
            list(manager.all())
        elif query == "filter":
            list(manager.filter(pk=1))
        elif query == "count":
            manager.count()
        elif query == "exists":
            manager.exists()
        elif query == "in_bulk":
            manager.in_bulk([1])
        else:
            manager.get(pk=1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "manager",
    [Membership.objects, CrewMembership.objects, Crew.objects],
    ids=["Membership", "CrewMembership", "Crew"],
)
def test_a_custom_query_outside_any_scope_raises_a_scope_error(manager: models.Manager) -> None:
    method = "formed" if manager.model is Crew else "current"
    with scope(), pytest.raises(ScopeError):
        getattr(manager, method)()


def test_a_congregations_scope_shows_only_its_own_rows(
    congregation: Congregation, crew: Crew, outsider: Self, t0: datetime
) -> None:
    (membership,) = memberships_of(self_=outsider)
    elsewhere = membership.congregation
    theirs = form_crew(
        congregation=elsewhere,
        name="Elsewhere crew",
        members=[outsider, *new_members(elsewhere, 2)],
        now=t0 - HOUR,
    )
    held_meeting(theirs, [outsider], t0)
    held_meeting(crew, people(crew), t0)

    with tenant(congregation):
        assert list(Crew.objects.all()) == [crew]
        assert set(LedgerEntry.objects.values_list("crew_id", flat=True)) == {crew.pk}
    with tenant(elsewhere):
        assert list(Crew.objects.all()) == [theirs]
        assert set(LedgerEntry.objects.values_list("crew_id", flat=True)) == {theirs.pk}


def test_a_fresh_thread_starts_outside_any_scope(crew: Crew) -> None:
    raised: list[BaseException] = []

    def query() -> None:
        try:
            Crew.objects.count()
        except ScopeError as error:
            raised.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=query)
    thread.start()
    thread.join()

    assert len(raised) == 1


def test_services_work_inside_the_congregations_scope_as_a_request_runs_them(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, t0: datetime
) -> None:
    with tenant(congregation):
        meeting = held_meeting(crew, [member, crew_mate], t0)
        record_listening_round(
            meeting=meeting,
            participants=[member, crew_mate],
            everyone_listened=True,
            recorded_by=member,
        )

    with tenant(congregation):
        assert ListeningRound.objects.filter(meeting=meeting).count() == 1
        assert LedgerEntry.objects.filter(meeting=meeting).count() == 4


@pytest.mark.django_db(transaction=True)
def test_the_missed_meeting_job_runs_in_a_fresh_thread_outside_any_scope(
    crew: Crew, t0: datetime
) -> None:
    scheduled_meeting(crew, t0)
    written: list[int] = []

    def job() -> None:
        try:
            written.append(apply_missed_meeting_deductions(now=t0 + GRACE + HOUR))
        finally:
            connection.close()

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()

    assert written == [3]
