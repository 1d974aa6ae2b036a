"""crew_scores and member_score against numbers worked out by hand."""

from __future__ import annotations

from datetime import datetime

import pytest

from congregations.models import Congregation, Self
from congregations.selectors import memberships_of
from congregations.tenancy import tenant
from crews.models import Crew
from crews.services import form_crew, leave_crew
from reciprocity.models import LegalForm
from reciprocity.selectors import crew_scores, member_score
from reciprocity.services import (
    apply_missed_meeting_deductions,
    confirm_co_ownership,
    confirm_resolution,
    open_conflict,
    record_listening_round,
    record_money_round,
    record_no_resolution,
    register_venture,
)
from tests.builders import (
    DAY,
    GRACE,
    HOUR,
    held_meeting,
    join,
    new_members,
    people,
    scheduled_meeting,
    total,
)
from tests.factories import MembershipFactory

pytestmark = pytest.mark.embedded


def test_scores_match_a_season_of_a_crew_worked_out_by_hand(
    congregation: Congregation,
    crew: Crew,
    member: Self,
    crew_mate: Self,
    third: Self,
    neighbour: Self,
    t0: datetime,
) -> None:
    a, b, c = member, crew_mate, third

    # Meeting 1: all three there; everyone listened; a asks, b offers, with respect.
    first = held_meeting(crew, [a, b, c], t0)
    record_listening_round(
        meeting=first, participants=[a, b, c], everyone_listened=True, recorded_by=a
    )
    record_money_round(
        meeting=first, focus=a, asked=True, offerers=[b], mutual_respect=True, recorded_by=a
    )
    # Meeting 2: c is away; not everyone listened; b is the focus, does not ask, a offers.
    second = held_meeting(crew, [a, b], t0 + 7 * DAY)
    record_listening_round(
        meeting=second, participants=[a, b], everyone_listened=False, recorded_by=b
    )
    record_money_round(
        meeting=second, focus=b, asked=False, offerers=[a], mutual_respect=False, recorded_by=b
    )
    # Meeting 3: nobody logs it.
    scheduled_meeting(crew, t0 + 14 * DAY)
    apply_missed_meeting_deductions(now=t0 + 14 * DAY + GRACE + HOUR)
    # a and c resolve a conflict; b and c find no resolution.
    resolved = open_conflict(crew=crew, parties=[a, c], opened_by=c, now=t0 + 15 * DAY)
    confirm_resolution(conflict=resolved, party=a, now=t0 + 16 * DAY)
    confirm_resolution(conflict=resolved, party=c, now=t0 + 16 * DAY)
    unresolved = open_conflict(crew=crew, parties=[b, c], opened_by=b, now=t0 + 15 * DAY)
    record_no_resolution(conflict=unresolved, recorded_by=c, now=t0 + 17 * DAY)
    # a and b co-own a venture (level 5: the congregation's, not the crew's).
    venture = register_venture(
        congregation=congregation,
        name="Bread co-op",
        legal_form=LegalForm.COOP,
        co_owners=[a, b],
        registered_by=b,
        now=t0 + 18 * DAY,
    )
    confirm_co_ownership(venture=venture, co_owner=a, now=t0 + 18 * DAY)
    confirm_co_ownership(venture=venture, co_owner=b, now=t0 + 18 * DAY)
    # a is also in a dyad with the neighbour, and meets there once.
    dyad = form_crew(
        congregation=congregation, name="Pair", members=[a, neighbour], kind="dyad", now=t0
    )
    held_meeting(dyad, [a, neighbour], t0 + 19 * DAY)
    # c leaves the crew; d joins it.
    leave_crew(crew=crew, member=c, now=t0 + 20 * DAY)
    (d,) = new_members(congregation, 1)
    join(crew, d, invited_by=a, at=t0 + 21 * DAY)

    # a: meeting 1: 1 attended + 1 listened + 5 asked + 1 respect = 8
    #    meeting 2: 3 attended + 5 offered                       = 8
    #    meeting 3: −5 missed; conflict: +10 resolved
    #    in the crew: 8 + 8 − 5 + 10 = 21
    # b: meeting 1: 1 attended + 1 listened + 5 offered + 1 respect = 8
    #    meeting 2: 3 attended (focus, no ask, no respect)           = 3
    #    meeting 3: −5 missed; conflict: −20 unresolved
    #    in the crew: 8 + 3 − 5 − 20 = −14
    # c: meeting 1: 1 attended + 1 listened = 2; meeting 2: −5; meeting 3: −5
    #    conflicts: +10 − 20; in the crew: 2 − 5 − 5 + 10 − 20 = −18, but c has left
    # d: joined after all of it: 0
    with tenant(congregation):
        assert crew_scores(crew=crew) == {a.pk: 21, b.pk: -14, d.pk: 0}
    assert total(c, crew=crew) == -18  # c's entries stay in the ledger
    with tenant(congregation):
        # a: 21 in the crew + 100 venture + 1 first dyad meeting = 122
        assert member_score(self_=a, congregation=congregation) == 122
        # b: −14 in the crew + 100 venture = 86
        assert member_score(self_=b, congregation=congregation) == 86
        assert member_score(self_=c, congregation=congregation) == -18
        assert member_score(self_=d, congregation=congregation) == 0


def test_crew_scores_include_a_member_without_points_as_zero(
    crew: Crew, member: Self, crew_mate: Self, third: Self, t0: datetime
) -> None:
    held_meeting(crew, [member], t0)

    with tenant(crew):
        assert crew_scores(crew=crew) == {member.pk: 1, crew_mate.pk: 0, third.pk: 0}


def test_crew_scores_leave_out_a_departed_member_whose_entries_stay(
    crew: Crew, member: Self, crew_mate: Self, third: Self, t0: datetime
) -> None:
    held_meeting(crew, [member, third], t0)

    leave_crew(crew=crew, member=third, now=t0 + DAY)

    with tenant(crew):
        assert crew_scores(crew=crew) == {member.pk: 1, crew_mate.pk: 0}
    assert total(third, crew=crew) == 1


def test_crew_scores_count_only_points_earned_in_that_crew(
    crew: Crew, other_crew: Crew, member: Self, t0: datetime
) -> None:
    join(other_crew, member, invited_by=people(other_crew)[0], at=t0 - DAY)
    held_meeting(other_crew, [member], t0)

    with tenant(crew):
        assert crew_scores(crew=crew)[member.pk] == 0
        assert crew_scores(crew=other_crew)[member.pk] == 1


def test_member_score_counts_only_that_congregation(
    congregation: Congregation, crew: Crew, member: Self, outsider: Self, t0: datetime
) -> None:
    (theirs,) = memberships_of(self_=outsider)
    elsewhere = theirs.congregation
    MembershipFactory.create(congregation=elsewhere, member=member)
    their_crew = form_crew(
        congregation=elsewhere,
        name="Elsewhere crew",
        members=[member, outsider, *new_members(elsewhere, 1)],
        now=t0 - DAY,
    )
    held_meeting(their_crew, [member], t0)

    with tenant(congregation):
        assert member_score(self_=member, congregation=congregation) == 0
    with tenant(elsewhere):
        assert member_score(self_=member, congregation=elsewhere) == 1
