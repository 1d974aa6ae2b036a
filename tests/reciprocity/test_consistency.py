"""Level 3: points for meeting (awarded by log_meeting), and −5 for a missed meeting
(written by apply_missed_meeting_deductions once the grace period has passed)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from congregations.models import Congregation, Self
from congregations.selectors import memberships_of
from congregations.tenancy import tenant
from crews.models import Crew
from crews.services import cancel_meeting, form_crew, leave_crew, log_meeting, mark_attendance
from reciprocity.models import LedgerEntry
from reciprocity.rules import Level, Rule
from reciprocity.services import apply_missed_meeting_deductions
from tests.builders import (
    DAY,
    GRACE,
    HOUR,
    held_meeting,
    join,
    ledger,
    levels,
    new_members,
    people,
    rows,
    scheduled_meeting,
)

pytestmark = pytest.mark.embedded

SECOND = timedelta(seconds=1)


def attended(member: Self, crew: Crew) -> list[int]:
    """The consistency points ``member`` earned in ``crew``, meeting by meeting."""
    with tenant(crew):
        return list(
            LedgerEntry.objects.filter(member=member, crew=crew, rule=Rule.ATTENDED)
            .order_by("occurred_at")
            .values_list("points", flat=True)
        )


# --- attending ---------------------------------------------------------------------------


@pytest.mark.parametrize(("nth", "points"), [(1, 1), (2, 3), (3, 5), (10, 5)])
def test_the_nth_meeting_attended_earns_one_then_three_then_five(
    crew: Crew, member: Self, t0: datetime, nth: int, points: int
) -> None:
    for day in range(nth):
        held_meeting(crew, [member], t0 + day * DAY)

    assert attended(member, crew)[-1] == points
    assert len(attended(member, crew)) == nth


def test_missing_a_meeting_does_not_reset_the_count(
    crew: Crew, member: Self, crew_mate: Self, t0: datetime
) -> None:
    held_meeting(crew, [member, crew_mate], t0)
    held_meeting(crew, [member, crew_mate], t0 + DAY)
    held_meeting(crew, [crew_mate], t0 + 2 * DAY)  # the member is away
    held_meeting(crew, [member, crew_mate], t0 + 3 * DAY)

    assert attended(member, crew) == [1, 3, 5]
    assert attended(crew_mate, crew) == [1, 3, 5, 5]


def test_meetings_are_counted_per_crew(
    congregation: Congregation, crew: Crew, member: Self, t0: datetime
) -> None:
    held_meeting(crew, [member], t0)
    held_meeting(crew, [member], t0 + DAY)
    dyad = form_crew(
        congregation=congregation,
        name="Pair",
        members=[member, *new_members(congregation, 1)],
        kind="dyad",
        now=t0,
    )

    held_meeting(dyad, [member], t0 + 2 * DAY)

    assert attended(member, dyad) == [1]


def test_consistency_points_are_level_three_in_the_crew(
    crew: Crew, member: Self, t0: datetime
) -> None:
    meeting = held_meeting(crew, [member], t0)

    assert levels(meeting=meeting) == {(Level.CONSISTENCY, crew.pk)}


def test_someone_who_was_away_earns_no_consistency_points(
    crew: Crew, member: Self, crew_mate: Self, t0: datetime
) -> None:
    meeting = held_meeting(crew, [member], t0)

    assert ledger(meeting=meeting) == rows((member, Rule.ATTENDED, 1))


# --- missing -----------------------------------------------------------------------------


def test_a_member_not_marked_present_loses_five_once_the_grace_period_has_passed(
    crew: Crew, member: Self, crew_mate: Self, third: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0)
    log_meeting(meeting=meeting, present=[member, crew_mate], logged_by=member, now=t0 + HOUR)

    assert apply_missed_meeting_deductions(now=t0 + GRACE) == 0
    assert apply_missed_meeting_deductions(now=t0 + GRACE + SECOND) == 1
    assert ledger(meeting=meeting, rule=Rule.MISSED) == rows((third, Rule.MISSED, -5))


def test_a_missed_meeting_costs_five_in_the_crew_at_level_three_written_by_the_job(
    crew: Crew, member: Self, t0: datetime
) -> None:
    meeting = held_meeting(crew, [member], t0 + HOUR)

    apply_missed_meeting_deductions(now=t0 + GRACE + DAY)

    with tenant(meeting):
        missed = LedgerEntry.objects.filter(meeting=meeting, rule=Rule.MISSED)
        written = {(e.level, e.crew_id, e.points, e.recorded_by) for e in missed}
    assert written == {(Level.CONSISTENCY, crew.pk, -5, None)}


def test_a_meeting_nobody_logged_counts_as_missed_by_everyone(crew: Crew, t0: datetime) -> None:
    meeting = scheduled_meeting(crew, t0)

    written = apply_missed_meeting_deductions(now=t0 + GRACE + SECOND)

    assert written == 3
    assert ledger(meeting=meeting) == rows(*((p, Rule.MISSED, -5) for p in people(crew)))


def test_attendance_tapped_at_a_meeting_nobody_logged_excuses_nobody(
    crew: Crew, member: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0)
    mark_attendance(meeting=meeting, member=member, present=True, marked_by=member, now=t0)

    apply_missed_meeting_deductions(now=t0 + GRACE + SECOND)

    assert ledger(meeting=meeting) == rows(*((p, Rule.MISSED, -5) for p in people(crew)))


def test_a_meeting_cancelled_before_its_start_costs_nobody(
    crew: Crew, member: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0)
    cancel_meeting(meeting=meeting, cancelled_by=member, now=t0 - HOUR)

    assert apply_missed_meeting_deductions(now=t0 + GRACE + SECOND) == 0
    assert ledger(meeting=meeting) == []


def test_someone_who_joined_the_crew_after_the_meeting_started_did_not_miss_it(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0)
    (late,) = new_members(congregation, 1)
    join(crew, late, invited_by=member, at=t0 + HOUR)
    log_meeting(meeting=meeting, present=[member, crew_mate], logged_by=member, now=t0 + HOUR)

    apply_missed_meeting_deductions(now=t0 + GRACE + SECOND)

    assert ledger(meeting=meeting, member=late) == []


def test_someone_who_left_the_crew_before_the_meeting_did_not_miss_it(
    crew: Crew, member: Self, third: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0)
    leave_crew(crew=crew, member=third, now=t0 - DAY)

    apply_missed_meeting_deductions(now=t0 + GRACE + SECOND)

    assert ledger(meeting=meeting, member=third) == []


def test_someone_who_left_the_crew_after_the_meeting_started_missed_it(
    crew: Crew, member: Self, third: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0)
    leave_crew(crew=crew, member=third, now=t0 + HOUR)

    apply_missed_meeting_deductions(now=t0 + GRACE + SECOND)

    assert ledger(meeting=meeting, member=third) == rows((third, Rule.MISSED, -5))


def test_running_the_deductions_twice_writes_nothing_the_second_time(
    crew: Crew, t0: datetime
) -> None:
    scheduled_meeting(crew, t0)
    assert apply_missed_meeting_deductions(now=t0 + GRACE + SECOND) == 3

    assert apply_missed_meeting_deductions(now=t0 + GRACE + DAY) == 0
    assert len(ledger(rule=Rule.MISSED)) == 3


def test_the_deductions_return_how_many_entries_they_wrote_across_crews(
    crew: Crew, other_crew: Crew, member: Self, t0: datetime
) -> None:
    held_meeting(crew, [member], t0 + HOUR)  # two missed it
    scheduled_meeting(other_crew, t0)  # nobody logged it: three missed it
    scheduled_meeting(crew, t0 + 3 * DAY)  # its grace period is still running

    written = apply_missed_meeting_deductions(now=t0 + GRACE + DAY)

    assert written == 5 == len(ledger(rule=Rule.MISSED))


def test_the_grace_period_is_the_congregations_setting(
    congregation: Congregation, crew: Crew, t0: datetime
) -> None:
    congregation.meeting_grace_hours = 12
    congregation.save()
    scheduled_meeting(crew, t0)

    assert apply_missed_meeting_deductions(now=t0 + 12 * HOUR) == 0
    assert apply_missed_meeting_deductions(now=t0 + 12 * HOUR + SECOND) == 3


def test_deductions_for_one_congregation_leave_the_others_alone(
    congregation: Congregation, crew: Crew, outsider: Self, t0: datetime
) -> None:
    (theirs,) = memberships_of(self_=outsider)
    elsewhere = theirs.congregation
    their_crew = form_crew(
        congregation=elsewhere,
        name="Elsewhere crew",
        members=[outsider, *new_members(elsewhere, 2)],
        now=t0 - DAY,
    )
    scheduled_meeting(crew, t0)
    their_meeting = scheduled_meeting(their_crew, t0)

    assert apply_missed_meeting_deductions(congregation=congregation, now=t0 + GRACE + HOUR) == 3
    assert ledger(meeting=their_meeting) == []
