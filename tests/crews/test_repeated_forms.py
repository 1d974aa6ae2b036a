"""A form sent twice (a double click, a reload, a retry on a flaky connection) is one
action: scheduling a meeting and proposing a crew or dyad make one thing, whether the
copies come one after the other or at the same instant. And a crew never holds two
meetings at one moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils.html import escape

from congregations.models import Congregation, Self
from congregations.request_keys import new_request_key
from congregations.tenancy import tenant
from crews.links import meeting_url
from crews.models import Crew, CrewInvitation, CrewMembership, Meeting, MeetingReminder
from crews.services import cancel_meeting, reschedule_meeting, schedule_meeting
from tests.builders import (
    DAY,
    HOUR,
    congregation_url,
    next_july,
    people,
    refused,
    sent_twice,
    signed_in,
)


def schedule_form(congregation: Congregation, now: datetime) -> dict[str, str]:
    """The schedule form as the crew page sends it: 19:00 in the crew's timezone."""
    return {
        "request_key": new_request_key(congregation),
        "date": next_july(now).isoformat(),
        "time": "19:00",
        "place": "Ana's kitchen",
        "agenda": "",
    }


def propose_form(congregation: Congregation, kind: str, invitees: list[Self]) -> dict[str, Any]:
    return {
        "request_key": new_request_key(congregation),
        "kind": kind,
        "name": "Seed library",
        "purpose": "",
        "timezone": "Europe/Amsterdam",
        "invitees": [p.pk for p in invitees],
    }


def someone_in(crew: Crew) -> Self:
    """One of the crew's members."""
    return people(crew)[0]


# --- the same form twice, one after the other ----------------------------------------------


@pytest.mark.django_db
def test_a_schedule_form_sent_twice_schedules_one_meeting(
    congregation: Congregation, member: Self, crew: Crew, now: datetime
) -> None:
    client = signed_in(member)
    data = schedule_form(congregation, now)

    first = client.post(congregation_url("crews:schedule", congregation, pk=crew.pk), data)
    again = client.post(congregation_url("crews:schedule", congregation, pk=crew.pk), data)

    with tenant(crew):
        meeting = Meeting.objects.get(crew=crew)
        reminders = MeetingReminder.objects.filter(meeting=meeting).count()
    assert (
        first["Location"]
        == again["Location"]
        == congregation_url("crews:meeting", congregation, pk=meeting.pk)
    )
    assert reminders == 1


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["crew", "dyad"])
def test_a_proposal_sent_twice_proposes_once(
    congregation: Congregation, member: Self, crew_mate: Self, neighbour: Self, kind: str
) -> None:
    client = signed_in(member)
    invitees = [crew_mate, neighbour] if kind == "crew" else [crew_mate]
    data = propose_form(congregation, kind, invitees)

    first = client.post(congregation_url("crews:propose", congregation), data)
    again = client.post(congregation_url("crews:propose", congregation), data)

    with tenant(congregation):
        proposal = Crew.objects.get(name="Seed library")
        joined = CrewMembership.objects.filter(crew=proposal).count()
        invited = CrewInvitation.objects.filter(crew=proposal).count()
    assert proposal.kind == kind
    assert (
        first["Location"]
        == again["Location"]
        == congregation_url("crews:crew", congregation, pk=proposal.pk)
    )
    assert joined == 1
    assert invited == len(invitees)


@pytest.mark.django_db
def test_a_key_spent_on_one_crews_meeting_is_refused_for_another_crew(
    congregation: Congregation, crew: Crew, other_crew: Crew, member: Self, t0: datetime
) -> None:
    key = new_request_key(congregation)
    schedule_meeting(crew=crew, starts_at=t0 + DAY, scheduled_by=member, request_key=key, now=t0)
    other = someone_in(other_crew)

    with refused("This form has been used already"):
        schedule_meeting(
            crew=other_crew,
            starts_at=t0 + DAY,
            scheduled_by=other,
            request_key=key,
            now=t0,
        )


# --- the same form twice at the same instant -----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_identical_schedule_posts_at_once_make_one_meeting_with_one_reminder(
    congregation: Congregation, member: Self, crew: Crew, now: datetime
) -> None:
    data = schedule_form(congregation, now)
    clients = [signed_in(member), signed_in(member)]

    responses = sent_twice(
        clients,
        lambda client: client.post(
            congregation_url("crews:schedule", congregation, pk=crew.pk), data
        ),
        at_once=True,
        congregation=congregation,
    )

    with tenant(crew):
        meeting = Meeting.objects.get(crew=crew)
        reminders = MeetingReminder.objects.filter(meeting=meeting).count()
    assert [r["Location"] for r in responses] == [
        congregation_url("crews:meeting", congregation, pk=meeting.pk)
    ] * 2
    assert meeting.starts_at == datetime(next_july(now).year, 7, 7, 17, tzinfo=UTC)
    assert reminders == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["crew", "dyad"])
def test_two_identical_proposals_at_once_propose_once(
    congregation: Congregation, member: Self, crew_mate: Self, neighbour: Self, kind: str
) -> None:
    invitees = [crew_mate, neighbour] if kind == "crew" else [crew_mate]
    data = propose_form(congregation, kind, invitees)
    clients = [signed_in(member), signed_in(member)]

    responses = sent_twice(
        clients,
        lambda client: client.post(congregation_url("crews:propose", congregation), data),
        at_once=True,
        congregation=congregation,
    )

    with tenant(congregation):
        proposal = Crew.objects.get(name="Seed library")
        invited = CrewInvitation.objects.filter(crew=proposal).count()
    assert [r["Location"] for r in responses] == [
        congregation_url("crews:crew", congregation, pk=proposal.pk)
    ] * 2
    assert invited == len(invitees)


# --- one meeting per moment ----------------------------------------------------------------


def taken(meeting: Meeting) -> str:
    return f"{meeting} is already scheduled for that moment: {meeting_url(meeting)}"


def linked(meeting: Meeting) -> str:
    """The same refusal on a page: the address is a link."""
    link = meeting_url(meeting)
    return (
        f'{escape(str(meeting))} is already scheduled for that moment: <a href="{link}">{link}</a>'
    )


@pytest.mark.django_db
def test_a_second_meeting_at_the_same_moment_is_refused_naming_the_first(
    crew: Crew, member: Self, crew_mate: Self, t0: datetime
) -> None:
    first = schedule_meeting(crew=crew, starts_at=t0 + DAY, scheduled_by=member, now=t0)

    with refused(taken(first)):
        schedule_meeting(crew=crew, starts_at=t0 + DAY, scheduled_by=crew_mate, now=t0)

    with tenant(crew):
        assert Meeting.objects.filter(crew=crew).count() == 1


@pytest.mark.django_db
def test_a_cancelled_meeting_leaves_its_moment_free(crew: Crew, member: Self, t0: datetime) -> None:
    first = schedule_meeting(crew=crew, starts_at=t0 + DAY, scheduled_by=member, now=t0)
    cancel_meeting(meeting=first, cancelled_by=member, now=t0)

    second = schedule_meeting(crew=crew, starts_at=t0 + DAY, scheduled_by=member, now=t0)

    assert second != first
    with tenant(crew):
        assert Meeting.objects.filter(crew=crew, starts_at=t0 + DAY).count() == 2


@pytest.mark.django_db
def test_another_crew_may_meet_at_the_same_moment(
    crew: Crew, other_crew: Crew, member: Self, t0: datetime
) -> None:
    schedule_meeting(crew=crew, starts_at=t0 + DAY, scheduled_by=member, now=t0)

    schedule_meeting(
        crew=other_crew, starts_at=t0 + DAY, scheduled_by=someone_in(other_crew), now=t0
    )

    with tenant(crew):
        assert Meeting.objects.filter(starts_at=t0 + DAY).count() == 2


@pytest.mark.django_db
def test_moving_a_meeting_onto_another_is_refused(crew: Crew, member: Self, t0: datetime) -> None:
    first = schedule_meeting(crew=crew, starts_at=t0 + DAY, scheduled_by=member, now=t0)
    second = schedule_meeting(crew=crew, starts_at=t0 + DAY + HOUR, scheduled_by=member, now=t0)

    with refused(taken(first)):
        reschedule_meeting(meeting=second, changed_by=member, starts_at=t0 + DAY, now=t0)

    # Changing only its place keeps its own moment, which is no clash with itself.
    reschedule_meeting(
        meeting=second, changed_by=member, starts_at=t0 + DAY + HOUR, place="Park", now=t0
    )


@pytest.mark.django_db
def test_the_schedule_form_links_to_the_meeting_already_there(
    congregation: Congregation, member: Self, crew: Crew, now: datetime
) -> None:
    client = signed_in(member)
    client.post(
        congregation_url("crews:schedule", congregation, pk=crew.pk),
        schedule_form(congregation, now),
    )
    with tenant(crew):
        first = Meeting.objects.select_related("crew", "congregation").get(crew=crew)

    # Another person's form, its own key, the same moment.
    response = client.post(
        congregation_url("crews:schedule", congregation, pk=crew.pk),
        schedule_form(congregation, now),
    )

    assert response.status_code == 200
    assert "date" in response.context["schedule_form"].errors  # next to the date
    assert linked(first) in response.content.decode()
    with tenant(crew):
        assert Meeting.objects.filter(crew=crew).count() == 1


@pytest.mark.django_db
def test_the_reschedule_form_links_to_the_meeting_already_there(
    congregation: Congregation, member: Self, crew: Crew, now: datetime
) -> None:
    start = datetime(next_july(now).year, 7, 7, 17, tzinfo=UTC)
    first = schedule_meeting(crew=crew, starts_at=start, scheduled_by=member)
    second = schedule_meeting(crew=crew, starts_at=start + timedelta(days=7), scheduled_by=member)
    client = signed_in(member)

    response = client.post(
        congregation_url("crews:reschedule", congregation, pk=second.pk),
        {"date": next_july(now).isoformat(), "time": "19:00", "version": second.version},
    )

    assert "date" in response.context["reschedule_form"].errors
    assert linked(first) in response.content.decode()
    with tenant(second):
        second.refresh_from_db()
    assert second.starts_at == start + timedelta(days=7)
