"""Crew names and meeting places are one line, and every crew text has one length, refused
with a message by the form and by the service alike."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client

from congregations.models import Congregation, Self
from crews import services
from crews.models import AGENDA_LENGTH, CREW_NAME_LENGTH, NOTES_LENGTH, PLACE_LENGTH, Crew, Meeting
from tests.builders import congregation_url, refused, snapshot

pytestmark = pytest.mark.django_db

ONE_LINE = "Keep this on one line, without line breaks, tabs or other control characters."
HEADER_INJECTION = "Evil\nBcc: x@example.org"


def test_the_crew_form_refuses_a_name_with_a_line_break_next_to_it(
    client: Client, congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    client.force_login(member)
    before = snapshot()

    response = client.post(
        congregation_url("crews:propose", congregation),
        {
            "kind": "crew",
            "name": HEADER_INJECTION,
            "timezone": "UTC",
            "invitees": [crew_mate.pk],
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [ONE_LINE]
    assert snapshot() == before


def test_propose_crew_refuses_a_name_with_a_line_break(
    congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    with refused(ONE_LINE):
        services.propose_crew(
            congregation=congregation,
            name=HEADER_INJECTION,
            proposed_by=member,
            invitees=[crew_mate],
        )


def test_form_crew_refuses_a_name_with_a_line_break(
    congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    with refused(ONE_LINE):
        services.form_crew(
            congregation=congregation,
            name="Dyad\u2028of two",
            members=[member, crew_mate],
            kind="dyad",
        )


def test_form_crew_refuses_an_over_long_name(
    congregation: Congregation, member: Self, crew_mate: Self, neighbour: Self
) -> None:
    with refused(f"at most {CREW_NAME_LENGTH} characters"):
        services.form_crew(
            congregation=congregation,
            name="n" * (CREW_NAME_LENGTH + 1),
            members=[member, crew_mate, neighbour],
        )


def test_the_schedule_form_refuses_a_place_with_a_line_break_next_to_it(
    client: Client, congregation: Congregation, member: Self, crew: Crew, now: datetime
) -> None:
    client.force_login(member)
    before = snapshot()

    response = client.post(
        congregation_url("crews:schedule", congregation, pk=crew.pk),
        {
            "date": (now + timedelta(days=7)).date().isoformat(),
            "time": "19:00",
            "place": "Ana's\nBcc: x@example.org",
        },
    )

    assert response.status_code == 200
    assert response.context["schedule_form"].errors["place"] == [ONE_LINE]
    assert snapshot() == before


def test_schedule_meeting_refuses_a_place_with_a_tab(
    member: Self, crew: Crew, now: datetime
) -> None:
    with refused(ONE_LINE):
        services.schedule_meeting(
            crew=crew,
            starts_at=now + timedelta(days=7),
            scheduled_by=member,
            place="Ana's\tkitchen",
        )


def test_reschedule_meeting_refuses_a_place_with_a_line_break(
    member: Self, upcoming_meeting: Meeting
) -> None:
    with refused(ONE_LINE):
        services.reschedule_meeting(
            meeting=upcoming_meeting,
            changed_by=member,
            starts_at=upcoming_meeting.starts_at,
            place=HEADER_INJECTION,
        )


def test_schedule_meeting_refuses_an_over_long_place_and_agenda(
    member: Self, crew: Crew, now: datetime
) -> None:
    with refused(f"at most {PLACE_LENGTH} characters"):
        services.schedule_meeting(
            crew=crew,
            starts_at=now + timedelta(days=7),
            scheduled_by=member,
            place="p" * (PLACE_LENGTH + 1),
        )
    with refused(f"at most {AGENDA_LENGTH} characters"):
        services.schedule_meeting(
            crew=crew,
            starts_at=now + timedelta(days=7),
            scheduled_by=member,
            agenda="a" * (AGENDA_LENGTH + 1),
        )


def test_the_schedule_form_refuses_an_over_long_agenda_next_to_it(
    client: Client, congregation: Congregation, member: Self, crew: Crew, now: datetime
) -> None:
    client.force_login(member)
    before = snapshot()

    response = client.post(
        congregation_url("crews:schedule", congregation, pk=crew.pk),
        {
            "date": (now + timedelta(days=7)).date().isoformat(),
            "time": "19:00",
            "agenda": "a" * (AGENDA_LENGTH + 1),
        },
    )

    (error,) = response.context["schedule_form"].errors["agenda"]
    assert f"at most {AGENDA_LENGTH} characters" in error
    assert snapshot() == before


def test_log_meeting_refuses_over_long_reflections(member: Self, started_meeting: Meeting) -> None:
    with refused(f"at most {NOTES_LENGTH} characters"):
        services.log_meeting(
            meeting=started_meeting,
            present=[member],
            logged_by=member,
            reflections="r" * (NOTES_LENGTH + 1),
        )


def test_a_multi_line_text_keeps_its_line_breaks(
    member: Self, crew: Crew, started_meeting: Meeting
) -> None:
    logged = services.log_meeting(
        meeting=started_meeting,
        present=[member],
        logged_by=member,
        reflections="Ana moved house.\n\tBen started a course.",
    )

    assert logged.reflections == "Ana moved house.\n\tBen started a course."
