"""What waits for a Self reaches them: on both home pages, in the unread count, in one
email each, and it is gone once they have acted."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from congregations.models import Ask, Congregation, Email, EmailOptOut, Notification, Self
from congregations.services.outbox import send_due_emails
from congregations.tenancy import tenant
from crews.models import Crew, CrewInvitation
from crews.services import answer_crew_invitation, propose_crew
from reciprocity.services import (
    confirm_co_ownership,
    confirm_resolution,
    mind_conflict_deadlines,
    open_conflict,
    register_venture,
)

from ..builders import congregation_url, signed_in
from ..factories import CongregationFactory, MembershipFactory
from ..pages import text

pytestmark = pytest.mark.django_db


def waiting_section(client: Client, url: str) -> str:
    page = text(client.get(url))
    found = re.search(r'<section id="waiting".*?</section>', page, re.S)
    assert found, "the page has no #waiting section"
    return found.group(0)


def links(section: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', section)


def unread(client: Client) -> int:
    badge = client.get(reverse("unread")).content.decode()
    found = re.search(r'(\d+)<span class="visually-hidden"> unread</span>', badge)
    return int(found.group(1)) if found else 0


def emails_to(self_: Self, congregation: Congregation) -> list[Email]:
    with tenant(congregation):
        return list(Email.objects.filter(recipient=self_))


@pytest.mark.embedded
def test_each_request_reaches_the_person_it_waits_for_once_and_is_gone_when_done(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, neighbour: Self
) -> None:
    home = congregation_url("crews:congregation", congregation)
    x, y, z = signed_in(neighbour), signed_in(crew_mate), signed_in(member)
    before = {client: unread(client) for client in (x, y, z)}

    proposal = propose_crew(
        congregation=congregation, name="Seed library", proposed_by=member, invitees=[neighbour]
    )
    conflict = open_conflict(
        crew=crew, parties=[member, crew_mate], opened_by=member, title="The borrowed van"
    )
    venture = register_venture(
        congregation=congregation,
        name="Tool library",
        legal_form="coop",
        co_owners=[crew_mate, member],
        registered_by=crew_mate,
    )
    # The jobs that run every few minutes, twice: nothing is told or emailed twice.
    for _ in range(2):
        mind_conflict_deadlines()
        send_due_emails()

    with tenant(congregation):
        invitation = CrewInvitation.objects.get(crew=proposal, invitee=neighbour)
    expected = {
        neighbour: ("Seed library", congregation_url("crews:crew", congregation, pk=proposal.pk)),
        crew_mate: (
            "The borrowed van",
            congregation_url("reciprocity:conflict", congregation, pk=conflict.pk),
        ),
        member: (
            "Tool library",
            congregation_url("reciprocity:venture", congregation, pk=venture.pk),
        ),
    }
    for person, client in ((neighbour, x), (crew_mate, y), (member, z)):
        words, path = expected[person]
        section = waiting_section(client, home)
        assert words in section
        assert path in links(section)
        assert client.get(path).status_code == 200
        assert unread(client) == before[client] + 1
        # One email each about it, with the link to that page, however often the jobs ran.
        about_it = [m for m in mail.outbox if m.to == [person.email] and words in m.subject]
        assert len(about_it) == 1, [m.subject for m in mail.outbox]
        assert path in about_it[0].body
    # Who asked hears nothing of their own request.
    assert not [m for m in mail.outbox if m.to == [member.email] and "van" in m.subject]

    answer_crew_invitation(invitation=invitation, answered_by=neighbour, accept=True)
    confirm_resolution(conflict=conflict, party=crew_mate)
    confirm_co_ownership(venture=venture, co_owner=member)

    assert "Seed library" not in waiting_section(x, home)
    assert "The borrowed van" not in waiting_section(y, home)
    assert "Tool library" not in waiting_section(z, home)
    # Done is read: what they acted on no longer counts as unread.
    with tenant(congregation):
        asking = Notification.objects.exclude(ask="").filter(read_at__isnull=True)
        assert not asking.filter(recipient__in=[neighbour, crew_mate]).exists()
    # The opener still has their own confirmation waiting; the registrant theirs.
    assert "The borrowed van" in waiting_section(z, home)


@pytest.mark.embedded
def test_the_signed_in_home_lists_what_waits_in_every_congregation(
    congregation: Congregation, member: Self, neighbour: Self, crew_mate: Self
) -> None:
    elsewhere = CongregationFactory.create(name="Harbour")
    MembershipFactory.create(congregation=elsewhere, member=member)
    ally = MembershipFactory.create(congregation=elsewhere).member
    propose_crew(congregation=congregation, name="Oak", proposed_by=neighbour, invitees=[member])
    propose_crew(congregation=elsewhere, name="Kelp", proposed_by=ally, invitees=[member])

    section = waiting_section(signed_in(member), reverse("home"))

    assert "Oak" in section and "Kelp" in section
    assert "Harbour" in section
    # In one congregation, only its own.
    assert "Kelp" not in waiting_section(
        signed_in(member), congregation_url("crews:congregation", congregation)
    )


@pytest.mark.embedded
def test_when_nothing_waits_it_says_so_in_one_calm_line(
    congregation: Congregation, member: Self
) -> None:
    section = waiting_section(
        signed_in(member), congregation_url("crews:congregation", congregation)
    )
    assert "Nothing is waiting for you." in section


@pytest.mark.embedded
def test_facilitators_see_invitations_about_to_lapse_and_people_without_a_crew(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    from congregations.services import invite

    with tenant(congregation):
        congregation.invitation_lifetime_days = 2
        congregation.save()
    invite(congregation=congregation, email="lapsing@example.net", invited_by=facilitator)
    with tenant(congregation):
        membership = member.memberships.get()
        membership.joined_at -= timedelta(weeks=4)
        membership.save()

    section = waiting_section(
        signed_in(facilitator), congregation_url("crews:congregation", congregation)
    )
    assert "lapsing@example.net" in section
    assert congregation_url("invitations", congregation) in links(section)
    assert str(member) in section and "without a crew" in section
    # A member is not asked to look after the congregation.
    assert "lapsing@example.net" not in waiting_section(
        signed_in(member), congregation_url("crews:congregation", congregation)
    )


@pytest.mark.embedded
def test_an_opted_out_kind_is_still_listed_and_counted_but_not_emailed(
    congregation: Congregation, member: Self, neighbour: Self
) -> None:
    EmailOptOut.objects.create(owner=neighbour, ask=Ask.CREW_INVITATION)
    propose_crew(congregation=congregation, name="Oak", proposed_by=member, invitees=[neighbour])

    client = signed_in(neighbour)
    assert "Oak" in waiting_section(client, congregation_url("crews:congregation", congregation))
    assert unread(client) == 1
    assert emails_to(neighbour, congregation) == []


@pytest.mark.embedded
def test_the_notification_list_shows_what_happened_and_marks_all_read(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self
) -> None:
    client = signed_in(crew_mate)
    client.post(reverse("notifications"))  # the crew's forming, read
    conflict = open_conflict(crew=crew, parties=[member, crew_mate], opened_by=member)
    confirm_resolution(conflict=conflict, party=crew_mate)
    confirm_resolution(conflict=conflict, party=member)  # +10 each: points written

    page = text(client.get(reverse("notifications")))
    assert "opened a conflict with you" in page
    assert "+10 points" in page
    assert unread(client) == 1  # the +10; the conflict itself was done by confirming

    response = client.post(reverse("notifications"))
    assert response.status_code == 302
    assert unread(client) == 0


@pytest.mark.embedded
def test_the_departed_hear_nothing_more_of_a_congregation(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, facilitator: Self
) -> None:
    from congregations.services import remove_member

    open_conflict(crew=crew, parties=[member, crew_mate], opened_by=member)
    client = signed_in(crew_mate)
    assert unread(client) == 2  # the crew formed, and the conflict
    with tenant(congregation):
        membership = crew_mate.memberships.get()
    remove_member(membership=membership, removed_by=facilitator)

    assert unread(client) == 0
    assert "conflict" not in text(client.get(reverse("notifications")))


@pytest.mark.parametrize("waiting", [1, 20])
def test_the_home_runs_as_many_queries_with_twenty_things_waiting_as_with_one(
    waiting: int,
    congregation: Congregation,
    member: Self,
    django_assert_num_queries: object,
) -> None:
    others = [MembershipFactory.create(congregation=congregation).member for _ in range(3)]
    for n in range(waiting):
        propose_crew(
            congregation=congregation, name=f"Crew {n}", proposed_by=others[0], invitees=[member]
        )
    client = signed_in(member)
    url = congregation_url("crews:congregation", congregation)
    client.get(url)  # the roster's cached copy, as every later visit finds it
    # The Self (the session is read from the cache), the congregation and the membership,
    # the walls (a SAVEPOINT, its RELEASE, setting and clearing the congregation), the
    # Self's crews, and what may wait for a member, in one query however many kinds and
    # items.
    with django_assert_num_queries(9):  # type: ignore[operator]
        section = waiting_section(client, url)
    assert section.count("invites you to the crew") == waiting


@pytest.mark.parametrize("waiting", [1, 20])
def test_the_signed_in_home_reads_every_congregation_in_as_many_queries(
    waiting: int, congregation: Congregation, member: Self, django_assert_num_queries: object
) -> None:
    elsewhere = CongregationFactory.create()
    MembershipFactory.create(congregation=elsewhere, member=member)
    for place in (congregation, elsewhere):
        proposer = MembershipFactory.create(congregation=place).member
        for n in range(waiting):
            propose_crew(
                congregation=place, name=f"Crew {n}", proposed_by=proposer, invitees=[member]
            )
    client = signed_in(member)
    with django_assert_num_queries(HOME_QUERIES):  # type: ignore[operator]
        section = waiting_section(client, reverse("home"))
    assert section.count("invites you to the crew") == 2 * waiting


# The Self (the session is read from the cache); the Self's memberships for the page, and
# again for what waits (each behind the door: BEGIN, the crossing role, the query, COMMIT);
# the crews and next meetings (behind the door); what waits: one query for each of its six
# kinds.
HOME_QUERIES = 17


def test_every_change_made_with_htmx_tells_the_unread_count_to_reload(
    congregation: Congregation, member: Self, neighbour: Self
) -> None:
    propose_crew(congregation=congregation, name="Oak", proposed_by=neighbour, invitees=[member])
    with tenant(congregation):
        invitation = CrewInvitation.objects.get(invitee=member)
    url = congregation_url("crews:answer_invitation", congregation, pk=invitation.pk)

    response = signed_in(member).post(url, {"answer": "accept"}, headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response.headers["HX-Trigger"] == "waiting-changed, notifications-changed"
    # Without htmx: on to the crew's page, as before.
    other = propose_crew(
        congregation=congregation, name="Elm", proposed_by=neighbour, invitees=[member]
    )
    with tenant(congregation):
        invitation = CrewInvitation.objects.get(invitee=member, crew=other)
    url = congregation_url("crews:answer_invitation", congregation, pk=invitation.pk)
    response = signed_in(member).post(url, {"answer": "decline"})
    assert response.status_code == 302
    assert "HX-Trigger" not in response.headers
