"""Forming crews and dyads by consent, in the browser's terms: propose, answer, invite, leave."""

from __future__ import annotations

import pytest
from django.test import Client

from congregations.models import Congregation, Self
from congregations.request_keys import new_request_key
from congregations.tenancy import tenant
from crews import services
from crews.models import Crew, CrewInvitation, CrewMembership, Kind
from tests.builders import congregation_url, writes_nothing

from ..factories import MembershipFactory

pytestmark = pytest.mark.embedded


def test_the_propose_form_ticks_the_person_chosen_in_the_dating_pool(
    client: Client, congregation: Congregation, member: Self, crew_mate: Self, outsider: Self
) -> None:
    client.force_login(member)
    response = client.get(congregation_url("crews:propose", congregation) + f"?with={crew_mate.pk}")
    assert response.status_code == 200
    field = response.context["form"]["invitees"]
    assert field.value() == [str(crew_mate.pk)]
    assert outsider.display_name not in response.content.decode()


def test_proposing_a_crew_invites_each_person(
    client: Client, congregation: Congregation, member: Self, crew_mate: Self, neighbour: Self
) -> None:
    client.force_login(member)
    response = client.post(
        congregation_url("crews:propose", congregation),
        {
            "request_key": new_request_key(congregation),
            "kind": "crew",
            "name": "Seed library",
            "purpose": "Keep seeds alive",
            "timezone": "Pacific/Auckland",
            "invitees": [crew_mate.pk, neighbour.pk],
        },
    )
    with tenant(congregation):
        crew = Crew.objects.get(name="Seed library")
        joined = list(CrewMembership.objects.filter(crew=crew).values_list("member", flat=True))
        invited = set(CrewInvitation.objects.filter(crew=crew).values_list("invitee", flat=True))
    assert response.status_code == 302
    assert response["Location"] == congregation_url("crews:crew", congregation, pk=crew.pk)
    assert crew.formed_at is None
    assert str(crew.timezone) == "Pacific/Auckland"
    assert joined == [member.pk]
    assert invited == {crew_mate.pk, neighbour.pk}


def test_a_dyad_of_three_is_refused_next_to_the_invitees(
    client: Client, congregation: Congregation, member: Self, crew_mate: Self, neighbour: Self
) -> None:
    client.force_login(member)
    with writes_nothing():
        response = client.post(
            congregation_url("crews:propose", congregation),
            {
                "request_key": new_request_key(congregation),
                "kind": "dyad",
                "name": "Pair",
                "timezone": "Europe/Amsterdam",
                "invitees": [crew_mate.pk, neighbour.pk],
            },
        )
    assert response.status_code == 200
    assert response.context["form"].errors["invitees"] == [
        "A dyad is exactly 2 people: invite at most 1."
    ]


def test_a_taken_name_is_refused_next_to_the_name(
    client: Client, congregation: Congregation, member: Self, crew: Crew, neighbour: Self
) -> None:
    client.force_login(member)
    with writes_nothing():
        response = client.post(
            congregation_url("crews:propose", congregation),
            {
                "request_key": new_request_key(congregation),
                "kind": "crew",
                "name": "Tuesday crew",
                "timezone": "Europe/Amsterdam",
                "invitees": [neighbour.pk],
            },
        )
    assert response.context["form"].errors["name"] == [
        "There is already a crew called “Tuesday crew”."
    ]


def test_someone_from_another_congregation_cannot_be_invited(
    client: Client, congregation: Congregation, member: Self, outsider: Self
) -> None:
    client.force_login(member)
    with writes_nothing():
        response = client.post(
            congregation_url("crews:propose", congregation),
            {
                "request_key": new_request_key(congregation),
                "kind": "crew",
                "name": "X",
                "timezone": "UTC",
                "invitees": [outsider.pk],
            },
        )
    assert "invitees" in response.context["form"].errors


@pytest.fixture
def proposal(congregation: Congregation, member: Self, neighbour: Self) -> Crew:
    return services.propose_crew(
        congregation=congregation, name="Seeds", proposed_by=member, invitees=[neighbour]
    )


def invitation_to(proposal: Crew) -> CrewInvitation:
    """The proposal's one invitation."""
    with tenant(proposal):
        return CrewInvitation.objects.get(crew=proposal)


def test_accepting_joins_the_crew(
    client: Client, congregation: Congregation, proposal: Crew, neighbour: Self
) -> None:
    invitation = invitation_to(proposal)
    client.force_login(neighbour)
    response = client.post(
        congregation_url("crews:answer_invitation", congregation, pk=invitation.pk),
        {"answer": "accept"},
    )
    assert response["Location"] == congregation_url("crews:crew", congregation, pk=proposal.pk)
    with tenant(congregation):
        assert CrewMembership.objects.filter(crew=proposal, member=neighbour).current().exists()
        invitation.refresh_from_db()
    assert invitation.accepted is True


def test_declining_leaves_the_crew_as_it_was(
    client: Client, congregation: Congregation, proposal: Crew, neighbour: Self
) -> None:
    invitation = invitation_to(proposal)
    client.force_login(neighbour)
    response = client.post(
        congregation_url("crews:answer_invitation", congregation, pk=invitation.pk),
        {"answer": "decline"},
    )
    assert response["Location"] == congregation_url("crews:congregation", congregation)
    with tenant(congregation):
        assert not CrewMembership.objects.filter(crew=proposal, member=neighbour).exists()
        invitation.refresh_from_db()
    assert invitation.accepted is False


def test_an_answer_must_be_yes_or_no(
    client: Client, congregation: Congregation, proposal: Crew, neighbour: Self
) -> None:
    invitation = invitation_to(proposal)
    client.force_login(neighbour)
    with writes_nothing():
        response = client.post(
            congregation_url("crews:answer_invitation", congregation, pk=invitation.pk), {}
        )
    assert response.status_code == 400


def test_only_the_invitee_can_answer(
    client: Client, congregation: Congregation, proposal: Crew, crew_mate: Self
) -> None:
    invitation = invitation_to(proposal)
    client.force_login(crew_mate)
    with writes_nothing():
        response = client.post(
            congregation_url("crews:answer_invitation", congregation, pk=invitation.pk),
            {"answer": "accept"},
        )
    assert response.status_code == 404


def test_the_ninth_is_refused_next_to_the_invitee_while_the_eighth_seat_is_offered(
    client: Client, congregation: Congregation, member: Self
) -> None:
    people = [MembershipFactory.create(congregation=congregation).member for _ in range(8)]
    crew = services.form_crew(
        congregation=congregation, name="Seven", members=[member, *people[:6]]
    )
    services.invite_to_crew(crew=crew, invitee=people[6], invited_by=member)
    client.force_login(member)
    with writes_nothing():
        response = client.post(
            congregation_url("crews:invite", congregation, pk=crew.pk), {"invitee": people[7].pk}
        )
    assert response.status_code == 200
    assert response.context["invite_form"].errors["invitee"] == [
        "Seven has no free seat: 7 in it and 1 asked, and a crew is at most 8 people. "
        "Ask again if someone says no."
    ]


def test_a_member_invites_someone_into_their_crew(
    client: Client, congregation: Congregation, member: Self, crew: Crew, neighbour: Self
) -> None:
    client.force_login(member)
    response = client.post(
        congregation_url("crews:invite", congregation, pk=crew.pk), {"invitee": neighbour.pk}
    )
    assert response.status_code == 302
    with tenant(crew):
        assert CrewInvitation.objects.filter(
            crew=crew, invitee=neighbour, invited_by=member
        ).exists()


def test_inviting_into_a_full_dyad_is_refused(
    client: Client, congregation: Congregation, member: Self, crew_mate: Self, neighbour: Self
) -> None:
    dyad = services.form_crew(
        congregation=congregation, name="Pair", members=[member, crew_mate], kind=Kind.DYAD
    )
    client.force_login(member)
    with writes_nothing():
        response = client.post(
            congregation_url("crews:invite", congregation, pk=dyad.pk), {"invitee": neighbour.pk}
        )
    assert response.status_code == 200
    assert response.context["invite_form"].errors["__all__"] == [
        "Pair is full: a dyad is at most 2 people."
    ]


def test_only_members_invite(
    client: Client, congregation: Congregation, crew: Crew, neighbour: Self, facilitator: Self
) -> None:
    client.force_login(facilitator)
    with writes_nothing():
        response = client.post(
            congregation_url("crews:invite", congregation, pk=crew.pk), {"invitee": neighbour.pk}
        )
    assert response.status_code == 404


def test_leaving_records_the_time(
    client: Client, congregation: Congregation, member: Self, crew: Crew
) -> None:
    client.force_login(member)
    response = client.post(congregation_url("crews:leave", congregation, pk=crew.pk))
    assert response["Location"] == congregation_url("crews:congregation", congregation)
    with tenant(crew):
        membership = CrewMembership.objects.get(crew=crew, member=member)
    assert membership.left_at is not None


@pytest.mark.parametrize("name", ["invite", "leave"])
def test_changes_refuse_get(
    client: Client, congregation: Congregation, member: Self, crew: Crew, name: str
) -> None:
    client.force_login(member)
    assert (
        client.get(congregation_url(f"crews:{name}", congregation, pk=crew.pk)).status_code == 405
    )
