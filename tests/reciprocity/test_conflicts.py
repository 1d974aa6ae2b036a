"""Level 4: +10 each when every party confirms a resolution; −20 each when a party records
that there was none, or when the conflict is still open past the congregation's deadline."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from congregations.models import Congregation, Self
from congregations.selectors import memberships_of
from congregations.tenancy import tenant
from crews.models import Crew
from reciprocity.models import Conflict, ConflictStatus
from reciprocity.rules import Level, Rule
from reciprocity.services import (
    confirm_resolution,
    expire_open_conflicts,
    open_conflict,
    record_no_resolution,
)
from tests.builders import DAY, DEADLINE, ledger, levels, recorders, refused, rows

pytestmark = pytest.mark.embedded

SECOND = timedelta(seconds=1)


@pytest.fixture
def conflict(crew: Crew, member: Self, crew_mate: Self, t0: datetime) -> Conflict:
    """A conflict between the member and the crew-mate, opened by the member at t0."""
    return open_conflict(crew=crew, parties=[member, crew_mate], opened_by=member, now=t0)


def test_a_conflict_is_open_until_its_deadline_thirty_days_on(
    conflict: Conflict, t0: datetime
) -> None:
    assert (conflict.status, conflict.deadline_at) == (ConflictStatus.OPEN, t0 + DEADLINE)
    assert ledger(conflict=conflict) == []


def test_every_party_confirming_a_resolution_earns_ten_each(
    conflict: Conflict, member: Self, crew_mate: Self, t0: datetime
) -> None:
    confirm_resolution(conflict=conflict, party=member, now=t0 + DAY)
    confirm_resolution(conflict=conflict, party=crew_mate, now=t0 + 2 * DAY)

    with tenant(conflict):
        conflict.refresh_from_db()
    assert conflict.status == ConflictStatus.RESOLVED
    assert ledger(conflict=conflict) == rows(
        (member, Rule.RESOLVED, 10), (crew_mate, Rule.RESOLVED, 10)
    )
    assert levels(conflict=conflict) == {(Level.CONFLICT, conflict.crew_id)}


def test_a_resolution_is_recorded_by_the_party_whose_confirmation_completed_it(
    conflict: Conflict, member: Self, crew_mate: Self, t0: datetime
) -> None:
    confirm_resolution(conflict=conflict, party=member, now=t0 + DAY)
    confirm_resolution(conflict=conflict, party=crew_mate, now=t0 + 2 * DAY)

    with tenant(conflict):
        conflict.refresh_from_db()
    assert conflict.closed_by == crew_mate
    assert recorders(conflict=conflict) == {crew_mate.pk}


def test_a_resolution_confirmed_by_one_of_two_parties_earns_nothing_yet(
    conflict: Conflict, member: Self, t0: datetime
) -> None:
    confirm_resolution(conflict=conflict, party=member, now=t0 + DAY)

    with tenant(conflict):
        conflict.refresh_from_db()
    assert conflict.status == ConflictStatus.OPEN
    assert ledger(conflict=conflict) == []


def test_a_resolution_waits_for_every_one_of_three_parties(
    crew: Crew, member: Self, crew_mate: Self, third: Self, t0: datetime
) -> None:
    trio = open_conflict(crew=crew, parties=[member, crew_mate, third], opened_by=third, now=t0)
    confirm_resolution(conflict=trio, party=member, now=t0)
    confirm_resolution(conflict=trio, party=third, now=t0)
    assert ledger(conflict=trio) == []

    confirm_resolution(conflict=trio, party=crew_mate, now=t0)

    assert ledger(conflict=trio) == rows(
        *((p, Rule.RESOLVED, 10) for p in (member, crew_mate, third))
    )


def test_a_party_recording_no_resolution_costs_every_party_twenty(
    conflict: Conflict, member: Self, crew_mate: Self, third: Self, t0: datetime
) -> None:
    record_no_resolution(conflict=conflict, recorded_by=crew_mate, now=t0 + DAY)

    with tenant(conflict):
        conflict.refresh_from_db()
    assert conflict.status == ConflictStatus.UNRESOLVED
    assert ledger(conflict=conflict) == rows(
        (member, Rule.UNRESOLVED, -20), (crew_mate, Rule.UNRESOLVED, -20)
    )


def test_a_conflict_still_open_past_its_deadline_costs_every_party_twenty(
    conflict: Conflict, member: Self, crew_mate: Self, t0: datetime
) -> None:
    assert expire_open_conflicts(now=t0 + DEADLINE) == 0

    assert expire_open_conflicts(now=t0 + DEADLINE + SECOND) == 2

    with tenant(conflict):
        conflict.refresh_from_db()
    assert conflict.status == ConflictStatus.EXPIRED
    assert ledger(conflict=conflict) == rows(
        (member, Rule.EXPIRED, -20), (crew_mate, Rule.EXPIRED, -20)
    )


def test_a_conflict_half_confirmed_at_its_deadline_still_costs_twenty(
    conflict: Conflict, member: Self, crew_mate: Self, t0: datetime
) -> None:
    confirm_resolution(conflict=conflict, party=member, now=t0 + DAY)

    expire_open_conflicts(now=t0 + DEADLINE + SECOND)

    assert ledger(conflict=conflict) == rows(
        (member, Rule.EXPIRED, -20), (crew_mate, Rule.EXPIRED, -20)
    )


def test_the_deadline_is_the_congregations_setting(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, t0: datetime
) -> None:
    congregation.conflict_deadline_days = 7
    congregation.save()
    conflict = open_conflict(crew=crew, parties=[member, crew_mate], opened_by=member, now=t0)

    assert conflict.deadline_at == t0 + 7 * DAY
    assert expire_open_conflicts(now=t0 + 7 * DAY + SECOND) == 2


def test_expiring_twice_writes_nothing_the_second_time(conflict: Conflict, t0: datetime) -> None:
    expire_open_conflicts(now=t0 + DEADLINE + SECOND)

    assert expire_open_conflicts(now=t0 + DEADLINE + DAY) == 0
    assert len(ledger(conflict=conflict)) == 2


def test_expiring_one_congregation_leaves_the_others_alone(
    conflict: Conflict, outsider: Self, t0: datetime
) -> None:
    (theirs,) = memberships_of(self_=outsider)
    elsewhere = theirs.congregation

    assert expire_open_conflicts(congregation=elsewhere, now=t0 + DEADLINE + DAY) == 0
    assert ledger(conflict=conflict) == []


@pytest.mark.parametrize("after", [DAY, DEADLINE + DAY], ids=["in time", "at expiry"])
def test_a_party_never_loses_twenty_twice_for_one_conflict(
    conflict: Conflict, member: Self, crew_mate: Self, t0: datetime, after: timedelta
) -> None:
    record_no_resolution(conflict=conflict, recorded_by=member, now=t0 + after - DAY)

    assert expire_open_conflicts(now=t0 + after + DEADLINE) == 0
    assert ledger(conflict=conflict) == rows(
        (member, Rule.UNRESOLVED, -20), (crew_mate, Rule.UNRESOLVED, -20)
    )


def test_recording_no_resolution_after_expiry_is_refused(
    conflict: Conflict, member: Self, t0: datetime
) -> None:
    expire_open_conflicts(now=t0 + DEADLINE + SECOND)

    with refused("This conflict is closed: past its deadline."):
        record_no_resolution(conflict=conflict, recorded_by=member, now=t0 + DEADLINE + DAY)


@pytest.mark.parametrize("close", ["confirm", "no resolution"])
def test_after_the_deadline_only_the_minus_twenty_applies(
    conflict: Conflict, member: Self, t0: datetime, close: str
) -> None:
    late = t0 + DEADLINE + SECOND

    with refused("This conflict is past its deadline: it can no longer be resolved"):
        if close == "confirm":
            confirm_resolution(conflict=conflict, party=member, now=late)
        else:
            record_no_resolution(conflict=conflict, recorded_by=member, now=late)


def test_a_resolved_conflict_cannot_then_be_recorded_unresolved(
    conflict: Conflict, member: Self, crew_mate: Self, t0: datetime
) -> None:
    confirm_resolution(conflict=conflict, party=member, now=t0)
    confirm_resolution(conflict=conflict, party=crew_mate, now=t0)

    with refused("This conflict is closed: resolved."):
        record_no_resolution(conflict=conflict, recorded_by=member, now=t0 + DAY)


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("twice", [False, True], ids=["alone", "named twice"])
def test_a_conflict_with_one_party_is_refused(
    crew: Crew, member: Self, t0: datetime, twice: bool
) -> None:
    with refused("A conflict has at least two parties."):
        open_conflict(crew=crew, parties=[member] * (1 + twice), opened_by=member, now=t0)


def test_a_conflict_is_opened_by_one_of_its_parties(
    crew: Crew, member: Self, crew_mate: Self, third: Self, t0: datetime
) -> None:
    with refused("A conflict is opened by one of its parties."):
        open_conflict(crew=crew, parties=[member, crew_mate], opened_by=third, now=t0)


@pytest.mark.parametrize("stranger", ["neighbour", "outsider"])
def test_every_party_is_a_member_of_the_crew(
    crew: Crew, member: Self, t0: datetime, stranger: str, request: pytest.FixtureRequest
) -> None:
    someone = request.getfixturevalue(stranger)

    with refused("Only members of Tuesday crew can be parties to its conflicts."):
        open_conflict(crew=crew, parties=[member, someone], opened_by=member, now=t0)


def test_confirming_twice_is_refused(conflict: Conflict, member: Self, t0: datetime) -> None:
    confirm_resolution(conflict=conflict, party=member, now=t0)

    with refused("You have confirmed this resolution already."):
        confirm_resolution(conflict=conflict, party=member, now=t0 + DAY)


@pytest.mark.parametrize("someone", ["third", "neighbour", "outsider"])
def test_only_a_party_confirms_a_resolution(
    conflict: Conflict, t0: datetime, someone: str, request: pytest.FixtureRequest
) -> None:
    not_a_party = request.getfixturevalue(someone)

    with refused("Only the parties to this conflict can confirm a resolution."):
        confirm_resolution(conflict=conflict, party=not_a_party, now=t0)


def test_only_a_party_records_that_there_was_no_resolution(
    conflict: Conflict, third: Self, t0: datetime
) -> None:
    with refused("Only the parties to this conflict can record that there was no resolution."):
        record_no_resolution(conflict=conflict, recorded_by=third, now=t0)
