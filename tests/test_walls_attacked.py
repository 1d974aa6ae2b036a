"""The two walls, attacked: what a request, a service, a job or a careless developer could
leave behind on a connection for a later transaction, or let through between congregations.

Most tests here use the transactional database on purpose: with ``db`` every test body
runs inside the suite's own transaction, so ``tenant()`` is never the outermost block and
the path production takes (commit, and the setting gone with it) is never exercised."""

from __future__ import annotations

import ast
import contextlib
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import DatabaseError, DataError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.http import Http404, HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path, reverse

from congregations.models import Congregation, Invitation, Membership, Role, Self
from congregations.rls import as_owner
from congregations.services import invite
from congregations.tenancy import SETTING, _current, across_congregations, tenant
from crews.models import Crew, CrewMembership
from crews.services.calendar import renew_calendar_feed

from .builders import long_ledger
from .factories import CongregationFactory, MembershipFactory
from .test_database_walls import product_modules

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row-level security is PostgreSQL's"
)


def on_the_connection() -> tuple[str, str, int]:
    """Who the connection is, which congregation it has set, and how many memberships raw
    SQL sees: what a later transaction on this connection would inherit."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, coalesce(current_setting(%s, true), ''), "
            "(SELECT count(*) FROM congregations_membership)",
            [SETTING],
        )
        return cursor.fetchone()


CLEAN = ("microsolidarity_app", "", 0)


class Boom(Exception):
    pass


@pytest.fixture
def pair(transactional_db: None) -> tuple[Congregation, Congregation]:
    first, second = CongregationFactory.create(), CongregationFactory.create()
    for congregation in (first, second):
        MembershipFactory.create(congregation=congregation, role=Role.FACILITATOR)
    return first, second


def test_nothing_is_left_on_a_persistent_connection_after_any_way_out_of_the_walls(
    pair: tuple[Congregation, Congregation],
) -> None:
    first, second = pair
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    with tenant(first):
        pass
    assert on_the_connection() == CLEAN

    with pytest.raises(Boom), tenant(first):
        raise Boom
    assert on_the_connection() == CLEAN

    with pytest.raises(Boom), across_congregations():
        raise Boom
    assert on_the_connection() == CLEAN

    with pytest.raises(Boom), tenant(first), across_congregations():
        raise Boom
    assert on_the_connection() == CLEAN

    with pytest.raises(Boom), across_congregations(), tenant(second):
        raise Boom
    assert on_the_connection() == CLEAN

    # A failed statement aborts the transaction; leaving the walls must still clean up.
    with pytest.raises(DataError), tenant(first), connection.cursor() as cursor:
        cursor.execute("SELECT 1/0")
    assert on_the_connection() == CLEAN
    assert _current.get() == (None, False)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] == backend  # one connection throughout


def test_inner_walls_that_fail_give_the_outer_ones_back(
    pair: tuple[Congregation, Congregation],
) -> None:
    first, second = pair
    with tenant(first):
        mine = ("microsolidarity_app", str(first.pk), 1)
        assert on_the_connection() == mine
        for inner in (lambda: tenant(second), across_congregations):
            with pytest.raises(Boom), inner():
                raise Boom
            assert on_the_connection() == mine
            with inner():
                pass
            assert on_the_connection() == mine
        # Two levels deep, and out again by an exception through both.
        with pytest.raises(Boom), across_congregations(), tenant(second):
            assert on_the_connection() == ("microsolidarity_app", str(second.pk), 1)
            raise Boom
        assert on_the_connection() == mine
        assert list(Membership.objects.values_list("congregation_id", flat=True)) == [first.pk]
    assert on_the_connection() == CLEAN


def test_walls_entered_inside_a_plain_transaction_are_left_there_too(
    pair: tuple[Congregation, Congregation],
) -> None:
    """A service wrapped in ``transaction.atomic`` by its caller (a task, a shell session):
    after the walls, the rest of that transaction is as bare as before them."""
    first, _ = pair
    with transaction.atomic():
        with tenant(first):
            pass
        assert on_the_connection() == CLEAN
        with across_congregations():
            pass
        assert on_the_connection() == CLEAN
        with pytest.raises(Boom), across_congregations():
            raise Boom
        assert on_the_connection() == CLEAN


def test_walls_marked_for_rollback_are_left_quietly_and_clean(
    pair: tuple[Congregation, Congregation],
) -> None:
    """``transaction.set_rollback(True)`` inside nested walls (the middleware does it for
    a failed request; a service may) rolls them back on the way out, and gives the outer
    walls back, instead of failing on a query in a transaction marked for rollback."""
    first, second = pair
    with transaction.atomic():
        with tenant(first):
            facilitator = Membership.objects.get().member
            invite(congregation=first, email="gone@example.net", invited_by=facilitator)
            transaction.set_rollback(True)
        assert on_the_connection() == CLEAN
    with tenant(first):
        with tenant(second):
            transaction.set_rollback(True)
        assert on_the_connection() == ("microsolidarity_app", str(first.pk), 1)
        assert not Invitation.objects.exists()


def test_a_swallowed_database_error_does_not_leave_the_walls_remembered_wrongly(
    pair: tuple[Congregation, Congregation],
) -> None:
    """A job's item runs in a plain transaction (microsolidarity.services.batches._one)
    that catches whatever the item raises. If the item swallowed a database error without
    a savepoint, leaving the walls fails on its query; the walls must still forget
    themselves, or the worker's next items believe a congregation is set that is not (and
    skip setting it) or put it back where nobody asked for it."""
    first, _ = pair
    with transaction.atomic(), contextlib.suppress(DatabaseError):  # noqa: SIM117
        with tenant(first), connection.cursor() as cursor, contextlib.suppress(DataError):
            cursor.execute("SELECT 1/0")  # swallowed: the transaction is now aborted
    assert _current.get() == (None, False)
    with transaction.atomic():  # the worker's next item, of the same congregation
        with across_congregations():
            pass
        assert on_the_connection() == CLEAN
        with tenant(first):
            assert on_the_connection() == ("microsolidarity_app", str(first.pk), 1)


def test_a_query_built_behind_the_walls_and_run_outside_them_sees_nothing(
    pair: tuple[Congregation, Congregation],
) -> None:
    """A lazy QuerySet that escapes its walls (returned from a service or a selector, and
    evaluated by the caller) passes the Python gate, which checks where it was built, and
    finds no rows in the database: an empty page rather than a leak, so anything that
    returns rows from behind the walls must evaluate them there."""
    first, _ = pair
    with tenant(first):
        escaped = Membership.objects.all()
    assert list(escaped) == []
    with across_congregations():
        escaped = Membership.objects.all()
    assert list(escaped) == []


def test_a_tenant_row_s_relation_followed_outside_the_walls_is_not_there(
    transactional_db: None, crew: Crew
) -> None:
    """A related tenant row fetched lazily after the walls (a template or a shell session
    following a foreign key) goes through the unscoped base manager, so the Python gate
    does not object, and the database returns nothing: it fails as missing, never as
    another congregation's row. Select it behind the walls, as the selectors do."""
    with tenant(crew):
        membership = CrewMembership.objects.filter(crew=crew).earliest("pk")
    with pytest.raises(Crew.DoesNotExist):
        membership.crew  # noqa: B018
    with tenant(crew):
        assert membership.crew == crew


def test_a_service_refuses_rows_of_two_congregations(
    pair: tuple[Congregation, Congregation],
) -> None:
    first, second = pair
    with tenant(second):
        theirs = Membership.objects.get().member
        their_invitation, _ = invite(congregation=second, email="x@example.net", invited_by=theirs)
    with pytest.raises(TypeError, match="of one congregation"):
        invite(congregation=first, email="y@example.net", invited_by=theirs, note=their_invitation)  # type: ignore[arg-type]


def test_a_service_cannot_write_into_a_congregation_its_caller_is_not_in(
    pair: tuple[Congregation, Congregation],
) -> None:
    """The database's wall admits any row of the congregation set; whether the Self acting
    belongs to it is the service's check, and it makes it."""
    first, second = pair
    with tenant(second):
        stranger = Membership.objects.get().member
    with pytest.raises(ValidationError):
        invite(congregation=first, email="z@example.net", invited_by=stranger)
    with tenant(first):
        assert not Invitation.objects.exists()


# A careless view: writes through a service, then refuses the request by raising.
def write_then_refuse(request: HttpRequest, kind: str) -> HttpResponse:
    congregation = request.congregation  # type: ignore[attr-defined]
    invite(congregation=congregation, email=f"{kind}@example.net", invited_by=request.user)  # type: ignore[arg-type]
    if kind == "forbidden":
        raise PermissionDenied
    if kind == "missing":
        raise Http404
    raise Boom


urlpatterns = [
    path("c/<slug:congregation_slug>/write-then/<str:kind>/", write_then_refuse),
    path("", include("microsolidarity.urls")),
]


@pytest.fixture
def signed_in(pair: tuple[Congregation, Congregation]) -> tuple[Client, Congregation]:
    first, _ = pair
    client = Client(raise_request_exception=False)
    with tenant(first):
        client.force_login(Membership.objects.get().member)
    return client, first


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("kind,status", [("forbidden", 403), ("missing", 404), ("boom", 500)])
def test_a_view_that_raises_after_a_service_wrote_leaves_nothing_written(
    signed_in: tuple[Client, Congregation], kind: str, status: int
) -> None:
    """The request runs in one transaction; an exception out of the view, whatever
    response Django turns it into, rolls it back, as ATOMIC_REQUESTS would."""
    client, congregation = signed_in
    response = client.get(f"/c/{congregation.slug}/write-then/{kind}/")
    assert response.status_code == status
    with tenant(congregation):
        assert not Invitation.objects.filter(email=f"{kind}@example.net").exists()
    assert on_the_connection() == CLEAN


def test_a_streamed_csv_closed_early_leaves_nothing_open(
    transactional_db: None, played: object, congregation: Congregation, member: Self
) -> None:
    client = Client()
    client.force_login(member)
    response = client.get(
        reverse("reciprocity:my_entries_csv", kwargs={"congregation_slug": congregation.slug})
    )
    assert response.status_code == 200, response
    chunks = iter(response.streaming_content)  # type: ignore[attr-defined]
    next(chunks)
    # Mid-stream the response's own transaction is open, behind its congregation's walls.
    assert connection.in_atomic_block
    response.close()
    assert not connection.in_atomic_block
    assert _current.get() == (None, False)
    assert on_the_connection() == CLEAN


def test_a_csv_closed_while_the_database_copies_it_leaves_nothing_open(
    transactional_db: None, crew: Crew, congregation: Congregation, member: Self
) -> None:
    """Closed mid-COPY (a download given up), the COPY is cancelled and its transaction
    rolled back: the connection is left as a request found it, and serves the next."""
    long_ledger(crew, 3_000)
    client = Client()
    client.force_login(member)
    url = reverse(
        "reciprocity:crew_entries_csv",
        kwargs={"congregation_slug": congregation.slug, "crew_pk": crew.pk},
    )
    response = client.get(url)
    chunks = iter(response.streaming_content)  # type: ignore[attr-defined]
    next(chunks), next(chunks)  # the header, and the first rows the database sent
    assert connection.in_atomic_block

    response.close()

    assert not connection.in_atomic_block
    assert _current.get() == (None, False)
    assert on_the_connection() == CLEAN
    whole = b"".join(client.get(url).streaming_content)
    assert whole.count(b"\r\n") == 1 + 3_000


def test_dumpdata_with_the_app_s_credentials_holds_every_congregation(
    pair: tuple[Congregation, Congregation], tmp_path: Path
) -> None:
    """A backup made with the app's credentials must not silently leave out every
    congregation's rows (row-level security shows the runtime role none outside the
    walls): dumpdata reads as the owner."""
    output = tmp_path / "dump.json"
    call_command("dumpdata", "congregations.membership", "--all", output=str(output))
    assert output.read_text().count('"model": "congregations.membership"') == 2
    assert on_the_connection() == CLEAN  # and the app's role is back


@pytest.fixture
def operator_in_two(
    transactional_db: None, played: object, congregation: Congregation, member: Self
) -> tuple[Self, Congregation]:
    """The member of a crew that has played, who is also a member of a second congregation
    with an invitation pending, and an operator."""
    elsewhere = CongregationFactory.create(name="Elsewhere")
    MembershipFactory.create(congregation=elsewhere, member=member, role=Role.FACILITATOR)
    invite(congregation=elsewhere, email="new@example.net", invited_by=member, send_email=False)
    Self.objects.filter(pk=member.pk).update(is_staff=True, is_superuser=True)
    member.refresh_from_db()
    return member, elsewhere


def test_the_pages_outside_a_congregation_work_as_their_outermost_transaction(
    operator_in_two: tuple[Self, Congregation], congregation: Congregation
) -> None:
    """Home, profile, the calendar (settings and feed), an invitation link and the admin
    read across congregations through the door, each in a transaction of its own: they
    show both congregations, and leave nothing on the connection."""
    member, elsewhere = operator_in_two
    client = Client()
    client.force_login(member)
    for url in ("/", "/profile/", "/calendar/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert on_the_connection() == CLEAN
    home = client.get("/").content.decode()
    assert congregation.name in home and elsewhere.name in home
    token = renew_calendar_feed(owner=member)
    feed = Client().get(f"/calendar/{token}.ics")
    assert feed.status_code == 200 and b"BEGIN:VEVENT" in feed.content
    with tenant(elsewhere):
        _, link = invite(congregation=elsewhere, email="ana@example.net", invited_by=member)
    assert Client().get(f"/invitations/{link}/").status_code == 200
    assert on_the_connection() == CLEAN
    for model in admin.site._registry:
        changelist = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(changelist).status_code == 200, changelist
    assert "Elsewhere" in client.get("/admin/congregations/membership/").content.decode()
    assert on_the_connection() == CLEAN


def test_a_data_migration_run_by_the_owner_sees_every_congregation(
    pair: tuple[Congregation, Congregation],
) -> None:
    """A RunPython step gets historical models (plain managers, no Python gate) and runs
    as DATABASE_OWNER_URL's role, whose BYPASSRLS lets it see every congregation: a data
    migration that silently found no rows would be the worst kind of wrong."""
    with as_owner() as owner:
        historical = MigrationLoader(owner).project_state().apps
        assert historical.get_model("congregations", "Membership").objects.count() == 2
    assert on_the_connection() == CLEAN


# The modules that may name the database's wall itself: the door, the policies, the setting.
OTHER_NAMES = {"base_manager", "DATABASE_CROSSING_ROLE"}
WALL_KEEPERS = {"congregations.tenancy", "congregations.rls", "microsolidarity.settings"}


def test_no_module_slips_past_the_walls_by_another_name() -> None:
    """The door's allowlist (test_database_walls) looks for ``across_congregations``,
    ``scopes_disabled`` and ``_base_manager``. The same ways out go by other names: the
    public ``_meta.base_manager``, a QuerySet built by hand, or switching the role or the
    congregation setting in raw SQL. None may appear outside the modules that keep the
    walls."""
    slipping = set()
    for module, source in product_modules():
        if module in WALL_KEEPERS:
            continue
        tree = ast.parse(source.read_text(), filename=str(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in OTHER_NAMES:
                slipping.add((module, node.attr))
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.lower()
                for way in ("set_config", "set role", "set local role", SETTING, "_crossing"):
                    if way in text:
                        slipping.add((module, way))
    assert slipping == set()
