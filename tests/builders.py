"""The suite's building blocks, in one place: people, crews' meetings and the game's
events made through the domain services (so they hold exactly what the app could have
made), addresses and signed-in clients, the ledger read back as plain tuples, a snapshot
of every row to prove a refused call wrote nothing, and calls run all at once.

Fixtures (the personas, a crew, a meeting) are in ``tests/conftest.py`` and build on
these."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from functools import partial
from types import ModuleType
from typing import Any, TypeVar

import pytest
from django.apps import apps
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from congregations.models import Congregation, Membership, Self
from congregations.tenancy import across_congregations, tenant
from crews.models import Crew, Meeting
from crews.selectors import current_members
from crews.services import (
    answer_crew_invitation,
    invite_to_crew,
    log_meeting,
    schedule_meeting,
)
from microsolidarity.release import RENDERED
from reciprocity.models import Conflict, Dispute, LedgerEntry, Venture
from reciprocity.rules import Level, Rule
from reciprocity.services import (
    apply_missed_meeting_deductions,
    open_conflict,
    record_money_round,
    register_venture,
)
from tests.factories import MembershipFactory

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# The congregation's defaults, as DESIGN.md states them.
GRACE = timedelta(hours=48)
DEADLINE = timedelta(days=30)

T = TypeVar("T")
C = TypeVar("C")

# (member id, rule, points): one ledger entry, as the tests compare them.
Row = tuple[int, str, int]


# --- addresses and callers ------------------------------------------------------------


def congregation_url(name: str, congregation: Congregation, **kwargs: object) -> str:
    """The URL of a page of ``congregation``: ``congregation_url("members", kotahi)``, or
    of another app's with its namespace, ``congregation_url("crews:people", kotahi)``."""
    view = name if ":" in name else f"congregations:{name}"
    return reverse(view, kwargs={"congregation_slug": congregation.slug, **kwargs})


def signed_in(self_: Self) -> Client:
    client = Client()
    client.force_login(self_)
    return client


def forget_cached() -> None:
    """Every page's shared copy and every version gone, as after a flush of the cache."""
    for alias in (DEFAULT_CACHE_ALIAS, RENDERED):
        caches[alias].clear()


def next_july(now: datetime) -> date:
    """A summer date a form can always schedule for, whatever today is."""
    return date(now.year + 1, 7, 7)


# --- people ---------------------------------------------------------------------------


def new_members(congregation: Congregation, count: int) -> list[Self]:
    return [MembershipFactory.create(congregation=congregation).member for _ in range(count)]


def membership_of(self_: Self, congregation: Congregation) -> Membership:
    with tenant(congregation):
        return Membership.objects.current().get(member=self_, congregation=congregation)


def people(crew: Crew) -> list[Self]:
    with tenant(crew):
        return list(current_members(crew=crew))


def ids(selves: Iterable[Self]) -> set[int]:
    return {s.pk for s in selves}


def join(crew: Crew, newcomer: Self, *, invited_by: Self, at: datetime) -> None:
    """``newcomer`` is invited into ``crew`` and accepts, at ``at``."""
    invitation = invite_to_crew(crew=crew, invitee=newcomer, invited_by=invited_by, now=at)
    answer_crew_invitation(invitation=invitation, answered_by=newcomer, accept=True, now=at)


# --- meetings -------------------------------------------------------------------------


def scheduled_meeting(
    crew: Crew, starts_at: datetime, *, by: Self | None = None, place: str = ""
) -> Meeting:
    """A meeting of ``crew`` at ``starts_at``, scheduled by one of its members a week
    ahead, or now if that is sooner: a past meeting too is one the service made."""
    return schedule_meeting(
        crew=crew,
        starts_at=starts_at,
        scheduled_by=by or people(crew)[0],
        place=place,
        now=min(timezone.now(), starts_at - 7 * DAY),
    )


def held_meeting(
    crew: Crew,
    present: Sequence[Self] | None = None,
    now: datetime | None = None,
    *,
    logged_by: Self | None = None,
) -> Meeting:
    """A meeting of ``crew`` that started an hour before ``now`` (an hour ago by default)
    and was logged at ``now``, with ``present`` there (everyone by default)."""
    now = now or timezone.now() - HOUR
    present = people(crew) if present is None else present
    meeting = scheduled_meeting(crew, now - HOUR)
    logger = logged_by or (present[0] if present else people(crew)[0])
    return log_meeting(meeting=meeting, present=present, logged_by=logger, now=now)


# --- the game -------------------------------------------------------------------------


def money_round(meeting: Meeting, focus: Self, offerer: Self) -> None:
    """+5 +1 for the focus person, +5 +1 for the offerer."""
    record_money_round(
        meeting=meeting,
        focus=focus,
        asked=True,
        offerers=[offerer],
        mutual_respect=True,
        recorded_by=focus,
    )


def conflict(crew: Crew, *parties: Self) -> Conflict:
    return open_conflict(crew=crew, parties=parties, opened_by=parties[0], title="The borrowed van")


def venture(congregation: Congregation, *co_owners: Self) -> Venture:
    return register_venture(
        congregation=congregation,
        name="Seed library co-op",
        legal_form="coop",
        co_owners=co_owners,
        registered_by=co_owners[0],
    )


KINDS = [
    (Level.LISTENING, Rule.LISTENED),
    (Level.MONEY, Rule.OFFERED),
    (Level.CONSISTENCY, Rule.ATTENDED),
    (Level.CONFLICT, Rule.RESOLVED),
]


def long_ledger(crew: Crew, count: int, start: int = 0) -> None:
    """``count`` entries of a point each, spread over two years and the four crew levels,
    straight into the table: only for tests of pages and exports at size, where making
    thousands of them through the services would take minutes."""
    members = people(crew)
    now = timezone.now()
    with tenant(crew):
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                congregation_id=crew.congregation_id,
                crew=crew,
                member=members[i % len(members)],
                level=KINDS[i % 4][0],
                rule=KINDS[i % 4][1],
                points=1,
                reason="A point for the size test",
                occurred_at=now - timedelta(days=i % 730),
                recorded_at=now,
                idempotency_key=f"size-test:{crew.pk}:{i}",
            )
            for i in range(start, start + count)
        )


# --- the ledger, read back ------------------------------------------------------------


def rows(*expected: tuple[Self, Rule, int]) -> list[Row]:
    """Expected ledger entries, in the order ``ledger`` returns them."""
    return sorted((who.pk, str(rule), points) for who, rule, points in expected)


# The ledger as the database holds it, in every congregation: read through the door.


def ledger(**filters: Any) -> list[Row]:
    """The ledger entries matching ``filters``, as sorted (member id, rule, points)."""
    with across_congregations():
        entries = LedgerEntry.objects.filter(**filters)
        return sorted(entries.values_list("member_id", "rule", "points"))


def levels(**filters: Any) -> set[tuple[int, int | None]]:
    """The (level, crew id) pairs of the ledger entries matching ``filters``."""
    with across_congregations():
        return set(LedgerEntry.objects.filter(**filters).values_list("level", "crew_id"))


def recorders(**filters: Any) -> set[int | None]:
    """Who recorded the ledger entries matching ``filters`` (None: a background job)."""
    with across_congregations():
        entries = LedgerEntry.objects.filter(**filters)
        return set(entries.values_list("recorded_by_id", flat=True))


def total(self_: Self, **filters: Any) -> int:
    return sum(points for _, _, points in ledger(member=self_, **filters))


# --- one bad item -----------------------------------------------------------------------


def poison(monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str, bad: Any) -> None:
    """Make ``module.name`` raise for the item ``bad``, and work as before for the rest."""
    real = getattr(module, name)

    def poisoned(item: Any, *args: Any, **kwargs: Any) -> Any:
        if item == bad:
            raise RuntimeError(f"poisoned item {item.pk}")
        return real(item, *args, **kwargs)

    monkeypatch.setattr(module, name, poisoned)


def poison_batch(monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str, bad: Any) -> None:
    """Make ``module.name``, which takes a batch (a query of items), raise for any batch
    holding the item ``bad``: the whole batch fails with it, then each item alone, and only
    the bad one fails."""
    real = getattr(module, name)

    def poisoned(batch: Any, *args: Any, **kwargs: Any) -> Any:
        if batch.filter(pk=bad.pk).exists():
            raise RuntimeError(f"poisoned item {bad.pk}")
        return real(batch, *args, **kwargs)

    monkeypatch.setattr(module, name, poisoned)


# --- nothing written ------------------------------------------------------------------


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the domain's apps, so a refused call can be shown to
    have changed nothing at all (an UPDATE too), not merely to have added no row."""
    with across_congregations():
        return {
            model._meta.label: list(model._default_manager.order_by("pk").values())
            for app in ("congregations", "crews", "reciprocity", "privacy")
            for model in apps.get_app_config(app).get_models()
        }


@contextmanager
def writes_nothing() -> Iterator[None]:
    """No row anywhere changed in the block."""
    before = snapshot()
    yield
    assert snapshot() == before


@contextmanager
def refused(message: str) -> Iterator[None]:
    """The block raises a ValidationError saying ``message``, and no row anywhere changed."""
    before = snapshot()
    with pytest.raises(ValidationError) as refusal:
        yield
    # The messages as a person reads them: str() of the error is a repr, which escapes
    # the apostrophe in a name such as O'Connor.
    assert message in " ".join(refusal.value.messages)
    assert snapshot() == before


# --- all at once ----------------------------------------------------------------------


def all_at_once(
    calls: int, call: Callable[[], T], *, congregation: Congregation
) -> list[T | Exception]:
    """Run ``call`` in ``calls`` threads at once (see ``together``)."""
    return together([call] * calls, congregation=congregation)


def together(
    calls: Sequence[Callable[[], T]], *, congregation: Congregation
) -> list[T | Exception]:
    """Run each call in its own thread, all released together, each in the congregation's
    scope as a request would be and on its own database connection; returns what each
    returned or raised, in the order of ``calls``."""
    barrier = threading.Barrier(len(calls))
    results: list[T | Exception] = [RuntimeError("did not finish")] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            with tenant(congregation):
                results[index] = calls[index]()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def sent_twice(
    senders: Sequence[C], send: Callable[[C], T], *, at_once: bool, congregation: Congregation
) -> list[T]:
    """``send`` from each sender (a test client, say): one after the other, or all at the
    same instant (see ``together``), failing the test if any raised."""
    if not at_once:
        return [send(sender) for sender in senders]
    return succeeded(together([partial(send, s) for s in senders], congregation=congregation))


def succeeded(results: Sequence[T | Exception]) -> list[T]:
    """What each call returned, failing the test if any raised."""
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    return [r for r in results if not isinstance(r, Exception)]


def disputed_deduction(crew: Crew, member: Self, present: list[Self], t0: datetime) -> Dispute:
    """``member`` disputes their −5 for a meeting of ``crew`` at ``t0`` where only
    ``present`` were marked present (made as the disputes service makes it)."""
    meeting = held_meeting(crew, present, t0)
    apply_missed_meeting_deductions(now=t0 + 3 * DAY)
    with tenant(crew):
        missed = LedgerEntry.objects.get(meeting=meeting, member=member, rule=Rule.MISSED)
        return Dispute.objects.create(
            congregation_id=crew.congregation_id,
            entry=missed,
            disputed_by=member,
            disputed_at=t0 + 4 * DAY,
        )
