"""A meeting is either missed or attended, never both: once settled as missed it can no
longer be logged, nor its attendance tapped, and its page says why."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from congregations.models import Congregation, Self
from congregations.services import update_settings
from congregations.tenancy import tenant
from crews.models import Crew, Meeting
from crews.services import log_meeting, mark_attendance
from reciprocity.rules import Rule
from reciprocity.services import apply_missed_meeting_deductions
from tests.builders import GRACE, HOUR, congregation_url, ledger, refused, rows, scheduled_meeting

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def settled_then_given_more_time(
    congregation: Congregation, crew: Crew, facilitator: Self, starts_at: datetime
) -> Meeting:
    """A meeting nobody logged, settled as missed by everyone once its grace period ended;
    then the facilitator doubles the grace period, so its log window is open again."""
    meeting = scheduled_meeting(crew, starts_at)
    apply_missed_meeting_deductions(now=starts_at + GRACE + HOUR)
    update_settings(congregation=congregation, changed_by=facilitator, meeting_grace_hours=2 * 48)
    with tenant(meeting):
        meeting.refresh_from_db()
    return meeting


def test_logging_a_meeting_settled_as_missed_is_refused_and_the_ledger_stays(
    congregation: Congregation,
    crew: Crew,
    facilitator: Self,
    member: Self,
    crew_mate: Self,
    third: Self,
    t0: datetime,
) -> None:
    meeting = settled_then_given_more_time(congregation, crew, facilitator, t0)
    missed = rows((member, Rule.MISSED, -5), (crew_mate, Rule.MISSED, -5), (third, Rule.MISSED, -5))
    assert ledger(meeting=meeting) == missed
    settled_on = meeting.deductions_applied_at.astimezone(meeting.timezone)  # type: ignore[union-attr]

    with refused(
        f"This meeting was settled as missed on {settled_on.day} {settled_on:%B %Y}, so it can "
        "no longer be logged. A member who was there can dispute their −5 from My scores, and "
        "a crew-mate who was there confirms it."
    ):
        log_meeting(
            meeting=meeting,
            present=[member, crew_mate],
            logged_by=member,
            now=t0 + GRACE + 2 * HOUR,
        )
    assert ledger(meeting=meeting) == missed


def test_tapping_attendance_at_a_meeting_settled_as_missed_is_refused(
    congregation: Congregation, crew: Crew, facilitator: Self, member: Self, t0: datetime
) -> None:
    meeting = settled_then_given_more_time(congregation, crew, facilitator, t0)

    with refused("This meeting was settled as missed on"):
        mark_attendance(
            meeting=meeting,
            member=member,
            present=True,
            marked_by=member,
            now=t0 + GRACE + 2 * HOUR,
        )


def test_the_page_of_a_meeting_settled_as_missed_says_why_instead_of_the_log_form(
    client: Client, congregation: Congregation, crew: Crew, facilitator: Self, member: Self
) -> None:
    meeting = settled_then_given_more_time(
        congregation, crew, facilitator, timezone.now() - GRACE - 2 * HOUR
    )
    client.force_login(member)

    page = client.get(
        congregation_url("crews:meeting", congregation, pk=meeting.pk)
    ).content.decode()

    assert escape("This meeting was settled as missed on") in page
    assert escape("can dispute their −5 from My scores") in page
    assert "Log this meeting" not in page
    assert (
        congregation_url("crews:tap", congregation, pk=meeting.pk, member_id=member.pk) not in page
    )
    assert meeting.starts_at + timedelta(hours=2 * 48) > timezone.now()  # the window is open
