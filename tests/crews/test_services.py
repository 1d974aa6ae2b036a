"""Crews, dyads and meetings through crews.services: who may form, schedule and log, when,
and what a refused call leaves behind (nothing)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews.models import Attendance, Crew, Meeting, MeetingStatus
from crews.selectors import members_at
from crews.services import (
    cancel_meeting,
    form_crew,
    leave_crew,
    log_meeting,
    mark_attendance,
    reschedule_meeting,
    schedule_meeting,
    update_meeting_notes,
)
from reciprocity.rules import Rule
from tests.builders import (
    DAY,
    GRACE,
    HOUR,
    held_meeting,
    ids,
    join,
    ledger,
    new_members,
    people,
    refused,
    rows,
    scheduled_meeting,
)

# --- forming crews and dyads -------------------------------------------------------------


@pytest.mark.parametrize(("kind", "size"), [("crew", 3), ("crew", 8), ("dyad", 2)])
def test_a_crew_of_three_to_eight_or_a_dyad_of_two_is_formed_with_everyone_in_it(
    congregation: Congregation, kind: str, size: int, t0: datetime
) -> None:
    selves = new_members(congregation, size)

    crew = form_crew(congregation=congregation, name="Circle", members=selves, kind=kind, now=t0)

    assert crew.formed_at == t0
    assert crew.kind == kind
    with tenant(crew):
        assert ids(members_at(crew=crew, moment=t0)) == ids(selves)


@pytest.mark.parametrize(
    ("kind", "size", "message"),
    [
        ("crew", 9, "A crew is 3 to 8 people; this has 9."),
        ("crew", 2, "A crew is 3 to 8 people; this has 2."),
        ("dyad", 3, "A dyad is exactly 2 people; this has 3."),
        ("dyad", 1, "A dyad is exactly 2 people; this has 1."),
    ],
)
def test_a_circle_of_the_wrong_size_is_refused(
    congregation: Congregation, kind: str, size: int, message: str
) -> None:
    selves = new_members(congregation, size)

    with refused(message):
        form_crew(congregation=congregation, name="Circle", members=selves, kind=kind)


def test_a_circle_of_an_unknown_kind_is_refused(congregation: Congregation) -> None:
    selves = new_members(congregation, 3)

    with refused("A circle is a crew or a dyad."):
        form_crew(congregation=congregation, name="Circle", members=selves, kind="trio")


def test_the_same_person_named_twice_counts_once(congregation: Congregation) -> None:
    a, b = new_members(congregation, 2)

    with refused("A crew is 3 to 8 people; this has 2."):
        form_crew(congregation=congregation, name="Circle", members=[a, b, a])


def test_a_member_of_another_congregation_cannot_be_in_a_crew(
    congregation: Congregation, outsider: Self
) -> None:
    selves = [*new_members(congregation, 2), outsider]

    with refused(f"Not a member of {congregation.name}: {outsider}."):
        form_crew(congregation=congregation, name="Circle", members=selves)


def test_a_crew_name_taken_in_the_congregation_is_refused_in_words(
    congregation: Congregation, crew: Crew
) -> None:
    selves = new_members(congregation, 3)

    with refused("There is already a crew called “tuesday CREW”."):
        form_crew(congregation=congregation, name="tuesday CREW", members=selves)


# --- scheduling, rescheduling, cancelling ------------------------------------------------


def test_a_member_schedules_a_meeting_in_the_future(crew: Crew, member: Self, t0: datetime) -> None:
    meeting = schedule_meeting(crew=crew, starts_at=t0 + DAY, scheduled_by=member, now=t0)

    assert (meeting.status, meeting.starts_at, meeting.version) == (
        MeetingStatus.SCHEDULED,
        t0 + DAY,
        1,
    )
    assert meeting.congregation_id == crew.congregation_id


@pytest.mark.parametrize("offset", [-HOUR, 0 * HOUR], ids=["in the past", "right now"])
def test_scheduling_a_meeting_that_is_not_in_the_future_is_refused(
    crew: Crew, member: Self, t0: datetime, offset: timedelta
) -> None:
    with refused("Choose a time in the future."):
        schedule_meeting(crew=crew, starts_at=t0 + offset, scheduled_by=member, now=t0)


def test_only_a_member_of_the_crew_schedules_its_meetings(
    crew: Crew, neighbour: Self, t0: datetime
) -> None:
    with refused("Only members of this crew can do that."):
        schedule_meeting(crew=crew, starts_at=t0 + DAY, scheduled_by=neighbour, now=t0)


def test_a_meeting_is_rescheduled_before_it_starts(crew: Crew, member: Self, t0: datetime) -> None:
    meeting = scheduled_meeting(crew, t0 + DAY)

    moved = reschedule_meeting(
        meeting=meeting, changed_by=member, starts_at=t0 + 2 * DAY, version=1, now=t0
    )

    assert (moved.starts_at, moved.version) == (t0 + 2 * DAY, 2)


def test_a_meeting_cancelled_before_it_starts_is_cancelled(
    crew: Crew, member: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0 + DAY)

    cancelled = cancel_meeting(meeting=meeting, cancelled_by=member, version=1, now=t0)

    assert (cancelled.status, cancelled.cancelled_at, cancelled.cancelled_by) == (
        MeetingStatus.CANCELLED,
        t0,
        member,
    )


@pytest.mark.parametrize("change", ["reschedule", "cancel"])
def test_a_meeting_that_has_started_cannot_be_rescheduled_or_cancelled(
    crew: Crew, member: Self, t0: datetime, change: str
) -> None:
    meeting = scheduled_meeting(crew, t0)

    with refused("This meeting has started"):
        if change == "reschedule":
            reschedule_meeting(
                meeting=meeting, changed_by=member, starts_at=t0 + DAY, now=t0 + HOUR
            )
        else:
            cancel_meeting(meeting=meeting, cancelled_by=member, now=t0 + HOUR)


STALE_EDITS: dict[str, Callable[[Meeting, Self, datetime], object]] = {
    "reschedule": lambda meeting, by, now: reschedule_meeting(
        meeting=meeting, changed_by=by, starts_at=now + 3 * DAY, version=1, now=now
    ),
    "cancel": lambda meeting, by, now: cancel_meeting(
        meeting=meeting, cancelled_by=by, version=1, now=now
    ),
}
STALE = "Someone else changed this meeting while you were looking at it."


@pytest.mark.parametrize("edit", STALE_EDITS.values(), ids=STALE_EDITS.keys())
def test_rescheduling_or_cancelling_a_stale_version_of_a_meeting_is_refused(
    crew: Crew,
    member: Self,
    crew_mate: Self,
    t0: datetime,
    edit: Callable[[Meeting, Self, datetime], object],
) -> None:
    meeting = scheduled_meeting(crew, t0 + DAY)  # version 1 on the member's page
    reschedule_meeting(meeting=meeting, changed_by=crew_mate, starts_at=t0 + 2 * DAY, now=t0)

    with refused(STALE):
        edit(meeting, member, t0)


def test_updating_the_notes_of_a_stale_version_of_a_meeting_is_refused(
    crew: Crew, member: Self, crew_mate: Self, t0: datetime
) -> None:
    meeting = held_meeting(crew, [member, crew_mate], t0)
    seen = meeting.version
    update_meeting_notes(
        meeting=meeting, edited_by=crew_mate, reflections="theirs", envisioning="", version=seen
    )

    with refused(STALE):
        update_meeting_notes(
            meeting=meeting, edited_by=member, reflections="mine", envisioning="", version=seen
        )


def test_notes_are_updated_on_the_current_version(crew: Crew, member: Self, t0: datetime) -> None:
    meeting = held_meeting(crew, [member], t0)

    edited = update_meeting_notes(
        meeting=meeting,
        edited_by=member,
        reflections="we slowed down",
        envisioning="a shared garden",
        version=meeting.version,
    )

    assert (edited.reflections, edited.envisioning, edited.version) == (
        "we slowed down",
        "a shared garden",
        meeting.version + 1,
    )


# --- logging -----------------------------------------------------------------------------


def test_logging_records_everyone_in_the_crew_present_or_not(
    crew: Crew, member: Self, crew_mate: Self, third: Self, t0: datetime
) -> None:
    meeting = held_meeting(crew, [member, crew_mate], t0)

    with tenant(meeting):
        attendance = dict(
            Attendance.objects.filter(meeting=meeting).values_list("member_id", "present")
        )
    assert attendance == {member.pk: True, crew_mate.pk: True, third.pk: False}
    assert (meeting.status, meeting.logged_at, meeting.logged_by) == (
        MeetingStatus.LOGGED,
        t0,
        member,
    )


def test_a_meeting_can_be_logged_up_to_the_last_moment_of_its_grace_period(
    crew: Crew, member: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0)

    log_meeting(meeting=meeting, present=[member], logged_by=member, now=t0 + GRACE)

    assert ledger(meeting=meeting) == rows((member, Rule.ATTENDED, 1))


def test_logging_a_meeting_that_has_not_started_is_refused(
    crew: Crew, member: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0)

    with refused("This meeting has not started yet"):
        log_meeting(meeting=meeting, present=[member], logged_by=member, now=t0 - HOUR)


def test_logging_after_the_grace_period_is_refused(crew: Crew, member: Self, t0: datetime) -> None:
    meeting = scheduled_meeting(crew, t0)

    with refused("The time to log this meeting has passed"):
        log_meeting(meeting=meeting, present=[member], logged_by=member, now=t0 + GRACE + HOUR)


def test_the_grace_period_is_the_congregations_setting(
    congregation: Congregation, crew: Crew, member: Self, t0: datetime
) -> None:
    congregation.meeting_grace_hours = 12
    congregation.save()
    meeting = scheduled_meeting(crew, t0)

    with refused("meetings are logged within 12 hours of their start"):
        log_meeting(meeting=meeting, present=[member], logged_by=member, now=t0 + 13 * HOUR)


def test_logging_a_meeting_twice_is_refused(crew: Crew, member: Self, t0: datetime) -> None:
    meeting = held_meeting(crew, [member], t0)

    with refused("This meeting has been logged already."):
        log_meeting(meeting=meeting, present=[member], logged_by=member, now=t0 + HOUR)


def test_logging_a_cancelled_meeting_is_refused(crew: Crew, member: Self, t0: datetime) -> None:
    meeting = scheduled_meeting(crew, t0 + DAY)
    cancel_meeting(meeting=meeting, cancelled_by=member, now=t0)

    with refused("This meeting was cancelled: there is nothing to log."):
        log_meeting(meeting=meeting, present=[member], logged_by=member, now=t0 + DAY + HOUR)


def test_only_a_member_of_the_crew_logs_its_meeting(
    crew: Crew, member: Self, neighbour: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0)

    with refused("Only members of this crew can do that."):
        log_meeting(meeting=meeting, present=[member], logged_by=neighbour, now=t0 + HOUR)


def test_marking_present_someone_who_joined_after_the_start_is_refused(
    congregation: Congregation, crew: Crew, member: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0)
    (late,) = new_members(congregation, 1)
    join(crew, late, invited_by=member, at=t0 + HOUR)

    with refused(f"Not in {crew} when this meeting started: {late}."):
        log_meeting(meeting=meeting, present=[member, late], logged_by=member, now=t0 + 2 * HOUR)


def test_marking_present_someone_who_left_before_the_start_is_refused(
    crew: Crew, member: Self, third: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0)
    leave_crew(crew=crew, member=third, now=t0 - HOUR)

    with refused(f"Not in {crew} when this meeting started: {third}."):
        log_meeting(meeting=meeting, present=[member, third], logged_by=member, now=t0 + HOUR)


@pytest.mark.parametrize("who", ["neighbour", "outsider"])
def test_marking_present_someone_who_is_not_in_the_crew_is_refused(
    crew: Crew, member: Self, t0: datetime, who: str, request: pytest.FixtureRequest
) -> None:
    stranger = request.getfixturevalue(who)
    meeting = scheduled_meeting(crew, t0)

    with refused(f"Not in {crew} when this meeting started: {stranger}."):
        log_meeting(meeting=meeting, present=[member, stranger], logged_by=member, now=t0 + HOUR)


def test_tapping_present_someone_who_was_not_in_the_crew_at_the_start_is_refused(
    crew: Crew, member: Self, third: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0)
    leave_crew(crew=crew, member=third, now=t0 - HOUR)

    with refused(f"{third} was not in {crew} when this meeting started."):
        mark_attendance(meeting=meeting, member=third, present=True, marked_by=member, now=t0)


def test_a_tap_before_logging_is_a_draft_the_log_replaces(
    crew: Crew, member: Self, crew_mate: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0)
    mark_attendance(meeting=meeting, member=crew_mate, present=True, marked_by=member, now=t0)
    assert ledger(meeting=meeting) == []

    log_meeting(meeting=meeting, present=[member], logged_by=member, now=t0 + HOUR)

    with tenant(meeting):
        assert Attendance.objects.get(meeting=meeting, member=crew_mate).present is False
    assert ledger(meeting=meeting) == rows((member, Rule.ATTENDED, 1))


def test_someone_who_left_after_the_start_was_at_the_meeting(
    crew: Crew, member: Self, third: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0)
    leave_crew(crew=crew, member=third, now=t0 + HOUR)

    log_meeting(meeting=meeting, present=[member, third], logged_by=member, now=t0 + 2 * HOUR)

    assert ledger(meeting=meeting) == rows((member, Rule.ATTENDED, 1), (third, Rule.ATTENDED, 1))


def test_a_dyad_meets_and_scores_like_a_crew(congregation: Congregation, t0: datetime) -> None:
    pair = new_members(congregation, 2)
    dyad = form_crew(congregation=congregation, name="Pair", members=pair, kind="dyad", now=t0)

    held_meeting(dyad, pair, t0 + DAY)

    assert ids(people(dyad)) == ids(pair)
    assert ledger(crew=dyad) == rows(*((p, Rule.ATTENDED, 1) for p in pair))
