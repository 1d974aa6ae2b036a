"""Seats are seats: a crew or dyad never asks more people than it has free seats, and
once it fills, whoever was still asked is told no more."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils.html import escape

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews import services
from crews.models import Crew, CrewInvitation, CrewMembership, Kind
from tests.builders import congregation_url, new_members, writes_nothing

pytestmark = pytest.mark.django_db


def invitation(crew: Crew, invitee: Self) -> CrewInvitation:
    """The invitation of ``invitee`` into ``crew``."""
    with tenant(crew):
        return CrewInvitation.objects.get(crew=crew, invitee=invitee)


def refused_seat(crew: Crew, invitee: Self, invited_by: Self) -> ValidationError:
    with writes_nothing(), pytest.raises(ValidationError) as caught:
        services.invite_to_crew(crew=crew, invitee=invitee, invited_by=invited_by)
    return caught.value


def test_a_dyad_with_its_second_seat_offered_asks_nobody_else(
    congregation: Congregation, member: Self, crew_mate: Self, neighbour: Self
) -> None:
    dyad = services.propose_crew(
        congregation=congregation,
        name="Pair",
        kind=Kind.DYAD,
        proposed_by=member,
        invitees=[crew_mate],
    )

    error = refused_seat(dyad, neighbour, member)

    assert error.message_dict == {
        "invitee": [
            "Pair has no free seat: 1 in it and 1 asked, and a dyad is at most 2 people. "
            "Ask again if someone says no."
        ]
    }


def test_a_crew_asks_no_more_people_than_it_has_free_seats(
    congregation: Congregation, member: Self
) -> None:
    asked = new_members(congregation, 7)
    crew = services.propose_crew(
        congregation=congregation, name="Table", proposed_by=member, invitees=asked
    )
    (ninth,) = new_members(congregation, 1)

    error = refused_seat(crew, ninth, member)

    assert "Table has no free seat: 1 in it and 7 asked" in error.messages[0]


def test_a_seat_said_no_to_can_be_offered_again(
    congregation: Congregation, member: Self, crew_mate: Self, neighbour: Self
) -> None:
    dyad = services.propose_crew(
        congregation=congregation,
        name="Pair",
        kind=Kind.DYAD,
        proposed_by=member,
        invitees=[crew_mate],
    )
    first = invitation(dyad, crew_mate)
    services.answer_crew_invitation(invitation=first, answered_by=crew_mate, accept=False)

    again = services.invite_to_crew(crew=dyad, invitee=neighbour, invited_by=member)

    assert again.answered_at is None


@pytest.fixture
def over_asked_dyad(
    congregation: Congregation, member: Self, crew_mate: Self, neighbour: Self
) -> Crew:
    """A dyad whose one free seat was offered to two people, as inviting allowed before
    seats counted invitations: the state crews made then are still in."""
    dyad = services.propose_crew(
        congregation=congregation,
        name="Pair",
        kind=Kind.DYAD,
        proposed_by=member,
        invitees=[crew_mate],
    )
    with tenant(congregation):
        CrewInvitation.objects.create(
            congregation=congregation, crew=dyad, invitee=neighbour, invited_by=member
        )
    return dyad


def test_when_a_crew_fills_its_other_invitations_are_withdrawn_and_leave_the_pages(
    client: Client,
    congregation: Congregation,
    over_asked_dyad: Crew,
    crew_mate: Self,
    neighbour: Self,
    now: datetime,
) -> None:
    client.force_login(neighbour)
    home = congregation_url("crews:congregation", congregation)
    assert escape(over_asked_dyad.name) in client.get(home).content.decode()

    services.answer_crew_invitation(
        invitation=invitation(over_asked_dyad, crew_mate),
        answered_by=crew_mate,
        accept=True,
        now=now,
    )

    withdrawn = invitation(over_asked_dyad, neighbour)
    assert (withdrawn.withdrawn_at, withdrawn.answered_at, withdrawn.accepted) == (now, now, None)
    home_page = client.get(home).content.decode()
    assert "Invitations for you" not in home_page
    answer_url = congregation_url("crews:answer_invitation", congregation, pk=withdrawn.pk)
    assert answer_url not in home_page
    crew_page = client.get(
        congregation_url("crews:crew", congregation, pk=over_asked_dyad.pk)
    ).content.decode()
    assert answer_url not in crew_page
    member_page = client.get(congregation_url("crews:people", congregation)).content.decode()
    assert answer_url not in member_page


def test_answering_a_withdrawn_invitation_says_the_crew_filled(
    congregation: Congregation, over_asked_dyad: Crew, crew_mate: Self, neighbour: Self
) -> None:
    services.answer_crew_invitation(
        invitation=invitation(over_asked_dyad, crew_mate),
        answered_by=crew_mate,
        accept=True,
    )
    withdrawn = invitation(over_asked_dyad, neighbour)

    with writes_nothing(), pytest.raises(ValidationError, match="Pair filled up before you"):
        services.answer_crew_invitation(invitation=withdrawn, answered_by=neighbour, accept=True)
    with tenant(over_asked_dyad):
        assert CrewMembership.objects.filter(crew=over_asked_dyad).current().count() == 2
