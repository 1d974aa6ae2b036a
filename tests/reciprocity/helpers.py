"""Building blocks for the domain tests: meetings held through the services, the ledger
read back as plain tuples, and a snapshot of every row to prove a refused call wrote
nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django_scopes import scope

from congregations.models import Congregation, Self
from crews.models import Crew, Meeting
from crews.selectors import current_members
from crews.services import (
    answer_crew_invitation,
    invite_to_crew,
    log_meeting,
    schedule_meeting,
)
from reciprocity.models import LedgerEntry
from reciprocity.rules import Rule
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


def new_members(congregation: Congregation, count: int) -> list[Self]:
    return [MembershipFactory.create(congregation=congregation).member for _ in range(count)]


def join(crew: Crew, newcomer: Self, *, invited_by: Self, at: datetime) -> None:
    """``newcomer`` is invited into ``crew`` and accepts, at ``at``."""
    invitation = invite_to_crew(crew=crew, invitee=newcomer, invited_by=invited_by, now=at)
    answer_crew_invitation(invitation=invitation, answered_by=newcomer, accept=True, now=at)


def scheduled_meeting(crew: Crew, starts_at: datetime, *, by: Self | None = None) -> Meeting:
    """A meeting of ``crew`` at ``starts_at``, scheduled a week ahead by one of its members."""
    return schedule_meeting(
        crew=crew,
        starts_at=starts_at,
        scheduled_by=by or current_members(crew=crew)[0],
        now=starts_at - 7 * DAY,
    )


def held_meeting(
    crew: Crew, present: Sequence[Self], now: datetime, *, logged_by: Self | None = None
) -> Meeting:
    """A meeting of ``crew`` that started an hour before ``now`` and was logged at ``now``
    with ``present`` there."""
    meeting = scheduled_meeting(crew, now - HOUR)
    logger = logged_by or (present[0] if present else current_members(crew=crew)[0])
    return log_meeting(meeting=meeting, present=present, logged_by=logger, now=now)


def rows(*expected: tuple[Self, Rule, int]) -> list[Row]:
    """Expected ledger entries, in the order ``ledger`` returns them."""
    return sorted((who.pk, str(rule), points) for who, rule, points in expected)


def ledger(**filters: Any) -> list[Row]:
    """The ledger entries matching ``filters``, as sorted (member id, rule, points)."""
    return sorted(LedgerEntry.objects.filter(**filters).values_list("member_id", "rule", "points"))


def levels(**filters: Any) -> set[tuple[int, int | None]]:
    """The (level, crew id) pairs of the ledger entries matching ``filters``."""
    return set(LedgerEntry.objects.filter(**filters).values_list("level", "crew_id"))


def recorders(**filters: Any) -> set[int | None]:
    """Who recorded the ledger entries matching ``filters`` (None: a background job)."""
    return set(LedgerEntry.objects.filter(**filters).values_list("recorded_by_id", flat=True))


def total(self_: Self, **filters: Any) -> int:
    return sum(points for _, _, points in ledger(member=self_, **filters))


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the domain's apps."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for app in ("congregations", "crews", "reciprocity")
        for model in apps.get_app_config(app).get_models()
    }


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
            with scope(congregation=congregation):
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


def people(crew: Crew) -> list[Self]:
    return list(current_members(crew=crew))


def ids(selves: Iterable[Self]) -> set[int]:
    return {s.pk for s in selves}
