"""Helpers for the crew tests: addresses, a clock, and a check that nothing was written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from congregations.models import Congregation, Self
from crews.models import Attendance, Crew, CrewInvitation, CrewMembership, Meeting
from reciprocity.models import LedgerEntry

from ..factories import MeetingFactory, MembershipFactory

WRITTEN = (Crew, CrewMembership, CrewInvitation, Meeting, Attendance, LedgerEntry)


def url(name: str, congregation: Congregation, **kwargs: Any) -> str:
    return reverse(f"crews:{name}", kwargs={"congregation_slug": congregation.slug, **kwargs})


def rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the crew tables and the ledger, so a refused call can be shown to
    have changed nothing at all, not merely to have added no row."""
    return {
        model.__name__: sorted(
            tuple(getattr(obj, f.attname) for f in model._meta.concrete_fields)
            for obj in model.objects.all()
        )
        for model in WRITTEN
    }


@contextmanager
def writes_nothing() -> Iterator[None]:
    before = rows()
    yield
    assert rows() == before


@pytest.fixture
def now() -> datetime:
    return timezone.now()


@pytest.fixture
def started_meeting(crew: Crew, now: datetime) -> Meeting:
    """A meeting of the crew that started an hour ago: open for logging."""
    return MeetingFactory.create(crew=crew, starts_at=now - timedelta(hours=1))


@pytest.fixture
def upcoming_meeting(crew: Crew, now: datetime) -> Meeting:
    return MeetingFactory.create(crew=crew, starts_at=now + timedelta(days=7), place="Ana's")


@pytest.fixture
def not_in_crew(congregation: Congregation) -> Self:
    """A member of the congregation who is in no crew."""
    return MembershipFactory.create(congregation=congregation).member
