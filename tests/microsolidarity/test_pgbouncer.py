"""Behind a real PgBouncer in transaction pooling mode (issue 13, item 7).

The bouncer holds one server connection for all its clients (tests/pgbouncer.py), so a
client's next transaction, and every other client's, runs on the very backend the last
transaction ran on. What a transaction leaves on that backend is what would leak from
one congregation's request to another's in production. The tenant setting is made with
``set_config(…, true)`` and the door's crossing role with ``SET LOCAL ROLE``: both end with
their transaction, and these tests prove it.

The bouncer's clients are separate connections that only see committed rows, hence the
transactional database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from congregations.models import Congregation, Self
from congregations.services import create_congregation
from congregations.tenancy import SETTING, across_congregations, tenant
from crews.models import Crew
from crews.services import form_crew
from reciprocity.selectors.waiting import waiting_for

from ..builders import congregation_url, signed_in
from ..factories import MembershipFactory, SelfFactory
from ..pgbouncer import PgBouncer, pgbouncer_for, through


@pytest.fixture
def bouncer(transactional_db: None) -> Iterator[PgBouncer]:
    """A bouncer of this test's own, so that a session setting one test leaves on its
    server connection on purpose cannot reach another test."""
    with pgbouncer_for(connection.settings_dict) as started:
        yield started


@pytest.fixture
def app_through(bouncer: PgBouncer) -> Iterator[PgBouncer]:
    """Django's default connection, which every service uses, goes through the bouncer."""
    with through(bouncer):
        yield bouncer


def backend(client: psycopg.Connection[tuple[Any, ...]]) -> int:
    return int(one(client, "SELECT pg_backend_pid()"))


def setting(client: psycopg.Connection[tuple[Any, ...]]) -> str | None:
    value: str | None = one(client, "SELECT current_setting(%s, true)", SETTING)
    return value


def one(client: psycopg.Connection[tuple[Any, ...]], sql: str, *params: Any) -> Any:
    row = client.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def django_one(sql: str, *params: Any) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


# Once a session has made a custom setting, even one that ended with its transaction, the
# setting reads '' there rather than NULL. The policy's nullif(…, '') makes both mean "no
# congregation", so both are accepted here.
UNSET = ("", None)


def test_clients_of_the_bouncer_take_turns_on_one_server_connection(bouncer: PgBouncer) -> None:
    # Two clients open at once on one backend: only transaction pooling does that (in
    # session mode the second would wait for the first to disconnect).
    with bouncer.connect() as first, bouncer.connect() as second:
        assert backend(first) == backend(second)


def test_a_transaction_local_setting_ends_with_its_transaction(bouncer: PgBouncer) -> None:
    with bouncer.connect() as first, bouncer.connect() as second:
        with first.transaction():
            one(first, "SELECT set_config(%s, '42', true)", SETTING)
            assert setting(first) == "42"
            shared = backend(first)

        assert backend(second) == shared
        assert setting(second) in UNSET
        assert setting(first) in UNSET

        # A transaction that fails (a request that raises) leaves nothing either.
        with first.transaction():
            one(first, "SELECT set_config(%s, '42', true)", SETTING)
            raise psycopg.Rollback
        assert backend(second) == shared
        assert setting(second) in UNSET


def test_a_session_setting_leaks_to_the_next_client_so_the_app_never_makes_one(
    bouncer: PgBouncer,
) -> None:
    """The hazard the transaction-local form avoids: PgBouncer runs no reset between
    clients in transaction mode, so a session-level set_config(…, false) stays on the
    server connection and the next client, of any congregation, would act as the first."""
    with bouncer.connect() as first, bouncer.connect() as second:
        one(first, "SELECT set_config(%s, '42', false)", SETTING)
        assert backend(second) == backend(first)
        assert setting(second) == "42"


def test_django_prepares_no_statement_and_holds_no_cursor_on_the_server(
    app_through: PgBouncer,
) -> None:
    """A prepared statement or a held cursor lives on one server connection; the client's
    next transaction may run on another. The settings turn both off (settings.py) unless
    DATABASE_PREPARED_STATEMENTS says the bouncer keeps prepared statements (from 1.22)."""
    SelfFactory.create_batch(3)
    # psycopg prepares a statement from its fifth execution when it binds on the server
    # and may prepare (prepare_threshold); settings.py says it may not.
    for _ in range(8):
        assert Self.objects.filter(email__endswith="@example.net").count() == 3
    # .iterator() would declare a server-side cursor WITH HOLD outside a transaction.
    selves = Self.objects.order_by("pk").iterator(chunk_size=1)
    first = next(selves)
    # Nor are the queries compiled once and bound anew (microsolidarity.compiled).
    membership = MembershipFactory.create()
    for _ in range(8):
        with tenant(membership.congregation):
            waiting_for(self_=membership.member, now=timezone.now(), membership=membership)
    django_backend = django_one("SELECT pg_backend_pid()")
    assert connection.connection.info.port == app_through.port

    with app_through.connect() as other:
        assert backend(other) == django_backend
        assert one(other, "SELECT count(*) FROM pg_prepared_statements") == 0
        assert one(other, "SELECT count(*) FROM pg_cursors") == 0
    assert len([first, *selves]) == 3


@pytest.fixture
def aroha_and_bodhi(app_through: PgBouncer) -> tuple[Congregation, Congregation]:
    """Two congregations, written through the bouncer by the services: Aroha with a
    facilitator and a crew of three (4 memberships), Bodhi with a facilitator and a
    member (2)."""
    aroha = create_congregation(name="Aroha", facilitator=SelfFactory.create())
    bodhi = create_congregation(name="Bodhi", facilitator=SelfFactory.create())
    crew = [MembershipFactory.create(congregation=aroha).member for _ in range(3)]
    form_crew(congregation=aroha, name="Tuesday crew", members=crew)
    MembershipFactory.create(congregation=bodhi)
    return aroha, bodhi


def test_each_transaction_through_the_bouncer_sees_its_congregation_or_none(
    app_through: PgBouncer, aroha_and_bodhi: tuple[Congregation, Congregation]
) -> None:
    aroha, bodhi = aroha_and_bodhi
    # Behind Aroha's walls, a query that filters nothing sees Aroha's rows only, and can
    # neither touch Bodhi's rows nor move a row into Bodhi.
    with tenant(aroha):
        shared = django_one("SELECT pg_backend_pid()")
        assert django_one("SELECT count(*) FROM congregations_membership") == 4
        assert django_one("SELECT array_agg(DISTINCT congregation_id) FROM crews_crew") == [
            aroha.pk
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE congregations_membership SET role = role WHERE congregation_id = %s",
                [bodhi.pk],
            )
            assert cursor.rowcount == 0
    with pytest.raises(DatabaseError, match="row-level security"), tenant(aroha):
        django_one("UPDATE crews_crew SET congregation_id = %s RETURNING id", bodhi.pk)
    with tenant(bodhi):
        assert django_one("SELECT count(*) FROM congregations_membership") == 2

    # The next transaction on the same server connection, with no congregation set, sees
    # nothing: in a block of its own, as a lone statement, and as another client.
    with transaction.atomic():
        assert django_one("SELECT pg_backend_pid()") == shared
        assert django_one("SELECT current_setting(%s, true)", SETTING) in UNSET
        assert django_one("SELECT count(*) FROM congregations_membership") == 0
    assert django_one("SELECT count(*) FROM crews_crew") == 0
    with app_through.connect() as other:
        assert backend(other) == shared
        assert setting(other) in UNSET
        assert one(other, "SELECT count(*) FROM congregations_membership") == 0


def test_the_door_across_congregations_closes_with_its_transaction(
    app_through: PgBouncer, aroha_and_bodhi: tuple[Congregation, Congregation]
) -> None:
    """The door switches to the crossing role, which row-level security lets through,
    with SET LOCAL ROLE: on a shared server connection, a role that outlived its
    transaction would open every congregation to the next client."""
    with across_congregations():
        shared = django_one("SELECT pg_backend_pid()")
        assert django_one("SELECT current_user") == settings.DATABASE_CROSSING_ROLE
        assert django_one("SELECT count(*) FROM congregations_membership") == 6

    with app_through.connect() as other:
        assert backend(other) == shared
        assert one(other, "SELECT current_user") == app_through.user
        assert one(other, "SELECT count(*) FROM congregations_membership") == 0
    assert django_one("SELECT current_user") == app_through.user
    assert django_one("SELECT count(*) FROM congregations_membership") == 0


def test_a_csv_the_database_copies_streams_through_the_bouncer(
    app_through: PgBouncer, played: Crew, congregation: Congregation, member: Self
) -> None:
    """PostgreSQL's COPY runs in the response's own transaction, behind its congregation's
    walls, through a bouncer in transaction pooling mode, and leaves nothing on the shared
    server connection."""
    url = congregation_url("reciprocity:crew_entries_csv", congregation, crew_pk=played.pk)

    content = b"".join(signed_in(member).get(url).streaming_content)  # type: ignore[attr-defined]

    header, *rows, end = content.split(b"\r\n")
    assert header.endswith(b"reverses") and end == b""
    assert len(rows) == 3 + 2 + 2  # attended, offered and asked, mutual respect
    with app_through.connect() as other:
        assert setting(other) in UNSET
        assert one(other, "SELECT count(*) FROM reciprocity_ledgerentry") == 0
