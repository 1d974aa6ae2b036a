"""Shared fixtures: the services the suite needs, tenant scopes, and the four personas."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone, translation

from congregations.models import Congregation, Role, Self
from congregations.rls import CREDENTIALS, connect_as, owner_of
from congregations.services import invite
from congregations.tenancy import tenant
from crews.models import Crew, Meeting
from crews.selectors import current_members
from crews.services import form_crew

from .builders import (
    DAY,
    HOUR,
    forget_cached,
    held_meeting,
    money_round,
    people,
    scheduled_meeting,
)
from .factories import CongregationFactory, MembershipFactory

# Who the suite connects as once the test database is made: DATABASE_URL's role.
RUNTIME = {key: settings.DATABASES["default"].get(key) for key in CREDENTIALS}

HOW_TO_START = (
    "Start them with `docker compose up -d db redis`, "
    "or point DATABASE_URL and CELERY_BROKER_URL at running ones."
)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop at once, saying how to fix it, when PostgreSQL or Redis is not answering."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        try:
            psycopg.connect(
                host=database["HOST"] or None,
                port=database["PORT"] or None,
                user=database["USER"] or None,
                password=database["PASSWORD"] or None,
                dbname="postgres",
                connect_timeout=3,
            ).close()
        except psycopg.OperationalError as error:
            pytest.exit(f"PostgreSQL is not answering ({error}). {HOW_TO_START}", returncode=3)
    broker = settings.CELERY_BROKER_URL
    if broker.startswith("redis"):
        try:
            redis.Redis.from_url(broker, socket_connect_timeout=3).ping()
        except redis.RedisError as error:
            pytest.exit(
                f"Redis is not answering at {broker} ({error}). {HOW_TO_START}", returncode=3
            )


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Each test starts with no cached pages."""
    forget_cached()
    yield


@pytest.fixture(autouse=True)
def _in_english() -> Iterator[None]:
    """Each test starts in the site's language: a request in Spanish leaves Spanish active
    in its thread, as Django does, and the next test's services would speak it."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """The test database is made, migrated and dropped by the schema's owner, as in
    production (congregations/rls.py)..."""
    if (owner := owner_of(connection)) is not None:
        connect_as(connection, owner)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """...and every test runs as the runtime role, held back by row-level security."""
    maker = connect_as(connection, RUNTIME)
    yield
    connect_as(connection, maker)


@pytest.fixture
def congregation(db: None) -> Congregation:
    return CongregationFactory.create(name="Kotahi")


@pytest.fixture
def facilitator(congregation: Congregation) -> Self:
    return MembershipFactory.create(congregation=congregation, role=Role.FACILITATOR).member


@pytest.fixture
def member(congregation: Congregation) -> Self:
    return MembershipFactory.create(congregation=congregation).member


@pytest.fixture
def crew_mate(congregation: Congregation) -> Self:
    return MembershipFactory.create(congregation=congregation).member


@pytest.fixture
def outsider(db: None) -> Self:
    """A member of another congregation."""
    return MembershipFactory.create(
        congregation=CongregationFactory.create(name="Elsewhere")
    ).member


@pytest.fixture
def token(congregation: Congregation, facilitator: Self) -> str:
    """The link of the facilitator's invitation, with a note, to ben@example.net."""
    return invite(
        congregation=congregation,
        email="ben@example.net",
        invited_by=facilitator,
        note="Come and meet the others.",
        send_email=False,
    )[1]


@pytest.fixture
def crew(congregation: Congregation, member: Self, crew_mate: Self) -> Crew:
    """A formed crew of three: the member, the crew-mate and one more."""
    third = MembershipFactory.create(congregation=congregation).member
    return form_crew(
        congregation=congregation,
        name="Tuesday crew",
        members=[member, crew_mate, third],
        now=timezone.now() - timedelta(days=180),
    )


@pytest.fixture
def third(crew: Crew, member: Self, crew_mate: Self) -> Self:
    """The crew's third member, beside the member and the crew-mate."""
    with tenant(crew):
        return current_members(crew=crew).exclude(pk__in=[member.pk, crew_mate.pk]).get()


@pytest.fixture
def neighbour(congregation: Congregation) -> Self:
    """A member of the congregation who is in no crew."""
    return MembershipFactory.create(congregation=congregation).member


@pytest.fixture
def other_crew(congregation: Congregation) -> Crew:
    """A second formed crew of three in the same congregation, sharing nobody with ``crew``."""
    people = [MembershipFactory.create(congregation=congregation).member for _ in range(3)]
    return form_crew(
        congregation=congregation,
        name="Thursday crew",
        members=people,
        now=timezone.now() - timedelta(days=180),
    )


@pytest.fixture
def now() -> datetime:
    return timezone.now()


@pytest.fixture
def started_meeting(crew: Crew, now: datetime) -> Meeting:
    """A meeting of the crew that started an hour ago: open for logging."""
    return scheduled_meeting(crew, now - HOUR)


@pytest.fixture
def upcoming_meeting(crew: Crew, now: datetime) -> Meeting:
    return scheduled_meeting(crew, now + 7 * DAY, place="Ana's")


@pytest.fixture
def t0() -> datetime:
    """A moment 90 days ago, after the crews formed: tests pass times from here as ``now=``."""
    return timezone.now().replace(microsecond=0) - timedelta(days=90)


@pytest.fixture
def meeting(crew: Crew, t0: datetime) -> Meeting:
    """The crew's meeting, held and logged at ``t0`` with all three of them there."""
    return held_meeting(crew, people(crew), t0)


@pytest.fixture
def played(crew: Crew, member: Self, crew_mate: Self) -> Crew:
    """One logged meeting (+1 each for coming) with a money round in which the crew-mate
    asked and the member offered, with mutual respect (+6 each)."""
    money_round(held_meeting(crew), focus=crew_mate, offerer=member)
    return crew


@pytest.fixture(params=[False, True], ids=["bound", "prepared"])
def prepared(request: pytest.FixtureRequest, settings: Any) -> Iterator[bool]:
    """Each way a compiled query (microsolidarity.compiled) runs: on Django's cursor, or
    prepared (True), as settings.py makes the connection when DATABASE_PREPARED_STATEMENTS
    is on."""
    if request.param and connection.vendor != "postgresql":
        pytest.skip("Only PostgreSQL runs a compiled statement.")
    settings.DATABASE_PREPARED_STATEMENTS = request.param
    if not request.param:
        yield False
        return
    connection.ensure_connection()
    before = connection.connection.prepare_threshold
    connection.connection.prepare_threshold = 0
    try:
        yield True
    finally:
        connection.connection.prepare_threshold = before


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[None]:
    """A real Celery worker, in a thread, consuming from the Redis broker. Its tasks see
    only committed rows, hence the transactional database."""
    from celery.contrib.testing.worker import start_worker

    from microsolidarity.celery import app

    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """A failed run says how to replay it: pytest-randomly seeded the order, Faker,
    factory-boy and ``random`` from this number."""
    seed = getattr(config.option, "randomly_seed", None)
    if exitstatus not in (0, 5) and isinstance(seed, int):
        terminalreporter.write_line(
            f'Replay this run\'s order and data: PYTEST_ADDOPTS="--randomly-seed={seed}" make test'
        )
