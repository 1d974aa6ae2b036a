"""The database's wall, tested below Python: the suite's own role, row-level security on
every tenant table (found through the app registry, so a new model is covered without
anyone remembering), the append-only ledger against the runtime role, and the short list
of modules that may cross between congregations."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.test import Client
from django.urls import include, path
from django.utils import timezone

from congregations.models import Congregation, Self, TenantOwned
from congregations.rls import POLICY, tenant_models
from congregations.services import invite
from congregations.tenancy import ACROSS_CONGREGATIONS, SETTING, across_congregations, tenant
from crews.services import form_crew, invite_to_crew
from reciprocity.models import LedgerEntry
from reciprocity.services import (
    apply_missed_meeting_deductions,
    dispute_deduction,
    record_listening_round,
)

from .builders import conflict, held_meeting, money_round, people, scheduled_meeting, venture
from .factories import CongregationFactory, MembershipFactory

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("congregations", "crews", "reciprocity", "privacy", "microsolidarity", "bench")
# Tables that carry congregation_id without belonging to a congregation's members, and why.
NOT_TENANT_OWNED = {
    "microsolidarity_itemfailure": "the job runner's record of failed items, for operators",
}

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row-level security is PostgreSQL's"
)


def a_little_of_everything(congregation: Congregation) -> None:
    """A row in every tenant table of ``congregation``, each made by the service that
    makes it."""
    facilitator, *members = [
        MembershipFactory.create(congregation=congregation).member for _ in range(6)
    ]
    invite(congregation=congregation, email="new@example.net", invited_by=facilitator)
    crew = form_crew(
        congregation=congregation,
        name="Crew",
        members=members[:3],
        now=timezone.now() - timedelta(days=30),
    )
    invite_to_crew(crew=crew, invitee=members[3], invited_by=members[0])
    crew_mates = people(crew)
    meeting = held_meeting(crew)
    record_listening_round(
        meeting=meeting,
        participants=crew_mates,
        everyone_listened=True,
        recorded_by=crew_mates[0],
    )
    money_round(meeting, focus=crew_mates[0], offerer=crew_mates[1])
    conflict(crew, crew_mates[0], crew_mates[1])
    venture(congregation, members[0], members[4])
    scheduled_meeting(crew, timezone.now() + timedelta(days=7))  # and its reminders
    # A −5 for a meeting the first crew-mate was at, disputed: its crew-mates are notified.
    missed = held_meeting(crew, crew_mates[1:], timezone.now() - timedelta(days=3))
    apply_missed_meeting_deductions(congregation=congregation)
    with tenant(congregation):
        deduction = LedgerEntry.objects.get(meeting=missed, member=crew_mates[0])
    dispute_deduction(entry=deduction, disputed_by=crew_mates[0])


@pytest.fixture
def two_congregations(db: None) -> tuple[Congregation, Congregation]:
    first, second = CongregationFactory.create(), CongregationFactory.create()
    a_little_of_everything(first)
    a_little_of_everything(second)
    return first, second


def rows_seen(table: str, congregation_id: int | None = None) -> list[int]:
    """The congregation of every row raw SQL, with no WHERE, reads from ``table``."""
    with transaction.atomic(), connection.cursor() as cursor:
        if congregation_id is not None:
            cursor.execute("SELECT set_config(%s, %s, true)", [SETTING, str(congregation_id)])
        cursor.execute(f"SELECT congregation_id FROM {connection.ops.quote_name(table)}")
        return [row[0] for row in cursor.fetchall()]


def test_the_suite_connects_as_a_role_held_back_by_row_level_security(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND pg_has_role(current_user, c.relowner, 'USAGE')"
        )
        assert cursor.fetchone() == (0,)


def test_every_table_with_a_congregation_is_tenant_owned_and_forced_under_the_policy(
    db: None,
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns "
            "WHERE column_name = 'congregation_id' AND table_schema = current_schema()"
        )
        with_column = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_policy p ON p.polrelid = c.oid "
            "WHERE c.relrowsecurity AND c.relforcerowsecurity AND p.polname = %s",
            [POLICY],
        )
        guarded = {row[0] for row in cursor.fetchall()}
    owned = {model._meta.db_table for model in tenant_models()}
    assert len(owned) >= 19
    assert with_column - set(NOT_TENANT_OWNED) == owned
    assert guarded == owned


@pytest.mark.parametrize("model", tenant_models(), ids=lambda model: model._meta.label)
def test_raw_sql_sees_only_the_congregation_set_and_nothing_without_one(
    model: type[TenantOwned], two_congregations: tuple[Congregation, Congregation]
) -> None:
    first, second = two_congregations
    table = model._meta.db_table
    with across_congregations():
        assert {row.congregation_id for row in model.objects.all()} == {first.pk, second.pk}
    assert rows_seen(table) == []
    seen = rows_seen(table, first.pk)
    assert seen and set(seen) == {first.pk}


@pytest.mark.parametrize("model", tenant_models(), ids=lambda model: model._meta.label)
def test_with_one_congregation_set_another_s_rows_cannot_be_changed_or_added(
    model: type[TenantOwned], two_congregations: tuple[Congregation, Congregation]
) -> None:
    first, second = two_congregations
    table = connection.ops.quote_name(model._meta.db_table)
    with across_congregations():
        theirs = model.objects.filter(congregation=second).values_list("pk", flat=True)[0]
    with tenant(first), connection.cursor() as cursor:
        if not model.append_only:
            # Moving one of ours into theirs is refused; touching theirs finds nothing.
            cursor.execute(
                f"UPDATE {table} SET congregation_id = congregation_id WHERE id = %s", [theirs]
            )
            assert cursor.rowcount == 0
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [theirs])
            assert cursor.rowcount == 0
            with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
                cursor.execute(
                    f"UPDATE {table} SET congregation_id = %s WHERE congregation_id = %s",
                    [second.pk, first.pk],
                )
        # A copy of one of ours, written into theirs, is refused.
        cursor.execute(f"SELECT * FROM {table} WHERE congregation_id = %s LIMIT 1", [first.pk])
        columns = [column.name for column in cursor.description if column.name != "id"]
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            names = ", ".join(connection.ops.quote_name(c) for c in columns)
            values = ", ".join("%s" if c == "congregation_id" else c for c in columns)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {values} FROM {table} LIMIT 1",
                [second.pk],
            )
    with across_congregations():
        assert model.objects.filter(congregation=second).filter(pk=theirs).exists()


@pytest.fixture
def ledger_entry(played: object) -> LedgerEntry:
    with across_congregations():
        return LedgerEntry.objects.earliest("pk")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE reciprocity_ledgerentry SET points = 100",
        "DELETE FROM reciprocity_ledgerentry",
        "TRUNCATE reciprocity_ledgerentry CASCADE",
        "ALTER TABLE reciprocity_ledgerentry DISABLE TRIGGER USER",
        "ALTER TABLE reciprocity_ledgerentry DISABLE TRIGGER ALL",
        "DROP TRIGGER reciprocity_ledger_append_only ON reciprocity_ledgerentry",
        "ALTER TABLE reciprocity_ledgerentry NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY congregation_only ON reciprocity_ledgerentry",
        "SET session_replication_role = replica",
    ],
)
def test_the_runtime_role_cannot_rewrite_the_ledger_or_its_guards(
    ledger_entry: LedgerEntry, statement: str
) -> None:
    for walls in (tenant(ledger_entry), across_congregations()):
        with walls, pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
            c.execute(statement)
    with across_congregations():
        assert LedgerEntry.objects.get(pk=ledger_entry.pk).points == ledger_entry.points


def every_row(request: HttpRequest) -> JsonResponse:
    """A deliberately careless view: SELECT * from a tenant table, no WHERE."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT congregation_id FROM congregations_membership")
        return JsonResponse({"congregations": sorted({row[0] for row in cursor.fetchall()})})


urlpatterns = [
    path("c/<slug:congregation_slug>/every-row/", every_row),
    path("", include("microsolidarity.urls")),
]


@pytest.mark.urls(__name__)
def test_a_view_that_forgets_to_filter_still_sees_only_its_congregation(
    two_congregations: tuple[Congregation, Congregation],
) -> None:
    first, _ = two_congregations
    client = Client()
    with tenant(first):
        client.force_login(Self.objects.filter(memberships__congregation=first).earliest("pk"))
    response = client.get(f"/c/{first.slug}/every-row/")
    assert response.json() == {"congregations": [first.pk]}


def product_modules() -> Iterator[tuple[str, Path]]:
    for package in PRODUCT:
        for source in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in source.parts:
                module = ".".join(source.relative_to(ROOT).with_suffix("").parts)
                yield module.removesuffix(".__init__"), source


def names_used(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(), filename=str(source))
    return {
        node.id if isinstance(node, ast.Name) else node.attr
        for node in ast.walk(tree)
        if isinstance(node, (ast.Name, ast.Attribute))
    }


def test_only_the_listed_modules_cross_between_congregations() -> None:
    crossing = {
        module
        for module, source in product_modules()
        if module != "congregations.tenancy"
        and names_used(source) & {"across_congregations", "scopes_disabled", "_base_manager"}
    }
    assert crossing == set(ACROSS_CONGREGATIONS)
    assert len(ACROSS_CONGREGATIONS) <= 8


def test_the_allowlist_check_sees_a_door_where_there_is_one(tmp_path: Path) -> None:
    source = tmp_path / "views.py"
    source.write_text(
        "from django_scopes import scopes_disabled\nwith scopes_disabled():\n    pass\n"
    )
    assert "scopes_disabled" in names_used(source)


def test_a_tenant_model_is_found_through_the_registry() -> None:
    """A model that inherits TenantOwned is covered by the tests above without a list."""
    assert LedgerEntry in tenant_models()
    assert {model._meta.app_label for model in tenant_models()} == {
        "congregations",
        "crews",
        "reciprocity",
    }
    assert all(
        issubclass(model, TenantOwned) for model in apps.get_models() if model in tenant_models()
    )
