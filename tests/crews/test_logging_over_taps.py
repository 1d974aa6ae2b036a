"""Logging a meeting writes its attendance in one statement over the taps made before, and
still refuses bad notes and a second log, changing nothing."""

from __future__ import annotations

from datetime import datetime

import pytest

from congregations.models import Self
from congregations.tenancy import across_congregations
from crews.models import NOTES_LENGTH, Attendance, Crew, Meeting, MeetingStatus
from crews.services import log_meeting, mark_attendance
from tests.builders import ledger, refused

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def attendance(meeting: Meeting) -> dict[int, bool]:
    with across_congregations():
        return dict(Attendance.objects.filter(meeting=meeting).values_list("member_id", "present"))


def test_the_log_overwrites_the_taps_and_marks_the_absent(
    crew: Crew,
    started_meeting: Meeting,
    member: Self,
    crew_mate: Self,
    third: Self,
    now: datetime,
) -> None:
    # Taps that the log contradicts: the member tapped absent, the crew-mate present.
    mark_attendance(
        meeting=started_meeting, member=member, present=False, marked_by=member, now=now
    )
    mark_attendance(
        meeting=started_meeting, member=crew_mate, present=True, marked_by=member, now=now
    )
    logged = log_meeting(
        meeting=started_meeting, present=[member], logged_by=member, reflections="Good.", now=now
    )
    assert logged.status == MeetingStatus.LOGGED
    assert attendance(started_meeting) == {member.pk: True, crew_mate.pk: False, third.pk: False}
    points = {who for who, _, _ in ledger(meeting=started_meeting)}
    assert member.pk in points and crew_mate.pk not in points and third.pk not in points
    with across_congregations():
        assert Attendance.objects.filter(meeting=started_meeting).count() == 3
        stored = Meeting.objects.get(pk=started_meeting.pk)
    assert (stored.reflections, stored.logged_by_id) == ("Good.", member.pk)


@pytest.mark.parametrize(
    "notes, message",
    [
        ({"reflections": "x" * (NOTES_LENGTH + 1)}, "at most"),
        ({"envisioning": "x" * (NOTES_LENGTH + 1)}, "at most"),
        ({"reflections": "bad\x00byte"}, "Null characters are not allowed"),
    ],
)
def test_bad_notes_are_refused_and_nothing_is_saved(
    started_meeting: Meeting,
    member: Self,
    crew_mate: Self,
    now: datetime,
    notes: dict[str, str],
    message: str,
) -> None:
    mark_attendance(
        meeting=started_meeting, member=crew_mate, present=False, marked_by=member, now=now
    )
    with refused(message):
        log_meeting(meeting=started_meeting, present=[member], logged_by=member, now=now, **notes)
    assert attendance(started_meeting) == {crew_mate.pk: False}


def test_logging_twice_is_refused(
    started_meeting: Meeting, member: Self, crew_mate: Self, now: datetime
) -> None:
    log_meeting(meeting=started_meeting, present=[member], logged_by=member, now=now)
    before = attendance(started_meeting)
    with pytest.raises(Exception) as second:
        log_meeting(meeting=started_meeting, present=[crew_mate], logged_by=crew_mate, now=now)
    assert type(second.value).__name__ == "ValidationError"
    assert attendance(started_meeting) == before
