"""Building blocks for the game's view tests, made through the domain services so they
hold exactly what the browser would have made."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from congregations.models import Congregation, Self
from crews.models import Crew, Meeting
from crews.selectors import current_members
from crews.services import log_meeting, schedule_meeting
from reciprocity.models import Conflict, LedgerEntry, Venture
from reciprocity.rules import Level, Rule
from reciprocity.services import open_conflict, record_money_round, register_venture


def people(crew: Crew) -> list[Self]:
    return list(current_members(crew=crew))


def logged_meeting(
    crew: Crew, *, starts_at: datetime | None = None, present: list[Self] | None = None
) -> Meeting:
    """A meeting of the crew that started at ``starts_at`` (two hours ago by default) and
    was logged an hour later, everyone present unless ``present`` says otherwise."""
    starts_at = starts_at or timezone.now() - timedelta(hours=2)
    everyone = people(crew)
    meeting = schedule_meeting(
        crew=crew,
        starts_at=starts_at,
        scheduled_by=everyone[0],
        now=starts_at - timedelta(days=1),
    )
    return log_meeting(
        meeting=meeting,
        present=everyone if present is None else present,
        logged_by=everyone[0],
        now=starts_at + timedelta(hours=1),
    )


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


def ledger(crew: Crew, count: int, start: int = 0) -> None:
    """``count`` entries of a point each, spread over two years and the four crew levels,
    straight into the table, for size tests."""
    members = people(crew)
    now = timezone.now()
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


def url(name: str, congregation: Congregation, **kwargs: Any) -> str:
    return reverse(f"reciprocity:{name}", kwargs={"congregation_slug": congregation.slug, **kwargs})


def signed_in(self_: Self) -> Client:
    client = Client()
    client.force_login(self_)
    return client
