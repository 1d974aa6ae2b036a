"""The ledger is append-only in the database itself: on PostgreSQL by the app's role's
privileges and, for the schema's owner too, by a trigger; on SQLite (the embedded pass) by
its trigger. A correction is a new entry with the opposite points that names the entry it
reverses, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction

from congregations.models import Congregation, Self
from congregations.rls import as_owner
from congregations.selectors import memberships_of
from congregations.tenancy import tenant
from crews.models import Crew
from reciprocity.models import LedgerEntry
from reciprocity.rules import Level, Rule
from reciprocity.selectors import member_score
from reciprocity.services import reverse_entry
from tests.builders import DAY, held_meeting, refused
from tests.factories import MembershipFactory

pytestmark = pytest.mark.embedded


@pytest.fixture
def earned(crew: Crew, member: Self, t0: datetime) -> LedgerEntry:
    """The +1 the member earned for their first meeting with the crew."""
    meeting = held_meeting(crew, [member], t0)
    with tenant(crew):
        return LedgerEntry.objects.get(meeting=meeting, member=member)


def run_sql(statement: str, entry: LedgerEntry) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, [entry.pk])


TAMPERING: dict[str, Callable[[LedgerEntry], object]] = {
    "UPDATE": lambda e: run_sql("UPDATE reciprocity_ledgerentry SET points = 100 WHERE id = %s", e),
    "DELETE": lambda e: run_sql("DELETE FROM reciprocity_ledgerentry WHERE id = %s", e),
    "UPDATE of every row": lambda e: run_sql(
        "UPDATE reciprocity_ledgerentry SET reason = 'x' WHERE id >= %s", e
    ),
    "ORM update": lambda e: LedgerEntry.objects.filter(pk=e.pk).update(points=100),
    "ORM delete": lambda e: LedgerEntry.objects.filter(pk=e.pk).delete(),
    "ORM save": lambda e: e.save(),
}


DENIED = "permission denied for table reciprocity_ledgerentry"


@pytest.mark.parametrize("tamper", TAMPERING.values(), ids=TAMPERING.keys())
def test_the_database_itself_refuses_to_change_or_delete_a_ledger_entry(
    earned: LedgerEntry, tamper: Callable[[LedgerEntry], object]
) -> None:
    """On PostgreSQL, refused by the privileges of the role the app connects as
    (tests/test_database_walls.py tries the guards too, through the door as well); on
    SQLite, which has no roles, by the trigger."""
    refusal: tuple[type[Exception], str] = (
        (ProgrammingError, DENIED)
        if connection.vendor == "postgresql"
        else (IntegrityError, "the reciprocity ledger is append-only")
    )
    with pytest.raises(refusal[0], match=refusal[1]), transaction.atomic(), tenant(earned):
        tamper(earned)

    with tenant(earned):
        assert LedgerEntry.objects.get(pk=earned.pk).points == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no roles")
@pytest.mark.django_db(transaction=True)  # the owner connects anew: the entry is committed
@pytest.mark.parametrize("tamper", TAMPERING.values(), ids=TAMPERING.keys())
def test_postgresql_itself_refuses_to_change_or_delete_a_ledger_entry_even_for_its_owner(
    earned: LedgerEntry, tamper: Callable[[LedgerEntry], object]
) -> None:
    """The trigger is the second guard, for the schema's owner, who has the privileges
    the app's role lacks."""
    with (
        as_owner(),
        pytest.raises(IntegrityError, match="the reciprocity ledger is append-only"),
        tenant(earned),
    ):
        tamper(earned)

    with tenant(earned):
        assert LedgerEntry.objects.get(pk=earned.pk).points == 1


def test_a_reversal_is_a_new_entry_with_the_opposite_points_naming_the_original(
    congregation: Congregation, earned: LedgerEntry, member: Self, facilitator: Self, t0: datetime
) -> None:
    correction = reverse_entry(
        entry=earned, reversed_by=facilitator, reason="logged by mistake", now=t0 + DAY
    )

    assert (correction.points, correction.reverses, correction.rule) == (-1, earned, Rule.REVERSAL)
    assert (correction.member, correction.crew_id, correction.level) == (
        member,
        earned.crew_id,
        Level.CONSISTENCY,
    )
    assert (correction.recorded_by, correction.occurred_at) == (facilitator, t0 + DAY)
    assert "logged by mistake" in correction.reason
    with tenant(congregation):
        assert LedgerEntry.objects.get(pk=earned.pk).points == 1  # the original stays as it was
        assert member_score(self_=member, congregation=congregation) == 0


def test_an_entry_is_reversed_once(earned: LedgerEntry, facilitator: Self) -> None:
    reverse_entry(entry=earned, reversed_by=facilitator, reason="mistake")

    with refused("This entry has been corrected already."):
        reverse_entry(entry=earned, reversed_by=facilitator, reason="mistake, again")


def test_a_reversal_is_not_itself_reversed(earned: LedgerEntry, facilitator: Self) -> None:
    correction = reverse_entry(entry=earned, reversed_by=facilitator, reason="mistake")

    with refused("A correction cannot itself be reversed."):
        reverse_entry(entry=correction, reversed_by=facilitator, reason="undo the undo")


@pytest.mark.parametrize("who", ["member", "other facilitator"])
def test_only_a_facilitator_of_the_congregation_corrects_the_ledger(
    earned: LedgerEntry, member: Self, outsider: Self, who: str
) -> None:
    if who == "member":
        someone = member
    else:
        (theirs,) = memberships_of(self_=outsider)
        elsewhere = theirs.congregation
        someone = MembershipFactory.create(congregation=elsewhere, role="facilitator").member

    with refused("Only a facilitator can correct the ledger."):
        reverse_entry(entry=earned, reversed_by=someone, reason="mistake")


def test_a_correction_says_why(earned: LedgerEntry, facilitator: Self) -> None:
    with refused("Say why this entry is being corrected."):
        reverse_entry(entry=earned, reversed_by=facilitator, reason="   ")
