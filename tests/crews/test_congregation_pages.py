"""The congregation's home and its dating pool."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews import services
from crews.models import Crew, Kind
from tests.builders import congregation_url, scheduled_meeting
from tests.pages import text

from ..factories import MembershipFactory

pytestmark = pytest.mark.embedded


def test_the_home_shows_people_crews_and_who_has_none(
    client: Client,
    congregation: Congregation,
    facilitator: Self,
    member: Self,
    crew: Crew,
    neighbour: Self,
    now: datetime,
) -> None:
    meeting = scheduled_meeting(crew, now + timedelta(days=3))
    proposal = services.propose_crew(
        congregation=congregation, name="Seed library", proposed_by=neighbour, invitees=[member]
    )
    client.force_login(member)

    response = client.get(congregation_url("crews:congregation", congregation))

    assert response.status_code == 200
    overview = response.context["overview"]
    assert [m.member for m in overview.roster.members] == sorted(
        [m.member for m in overview.roster.members], key=lambda s: s.display_name
    )
    assert {m.member for m in overview.roster.without_crew} == {facilitator, neighbour}
    assert [(a.crew, a.next_meeting) for a in overview.mine] == [(crew, meeting)]
    waiting = response.context["items"]
    assert [item.crew_name for item in waiting if item.answer_path] == [proposal.name]
    page = response.content.decode()
    assert "proposed: 1 of 3 joined" in page
    assert "3 people" in page
    assert "facilitator" in page
    assert "Join Seed library" in page


def test_a_crew_below_three_shows_it_needs_members(
    client: Client, congregation: Congregation, member: Self, crew_mate: Self, crew: Crew
) -> None:
    services.leave_crew(crew=crew, member=crew_mate)
    client.force_login(member)
    page = client.get(congregation_url("crews:congregation", congregation)).content.decode()
    assert "needs members: 2 of at least 3" in page


def test_the_home_runs_a_bounded_number_of_queries_with_200_members(
    client: Client,
    congregation: Congregation,
    member: Self,
    crew: Crew,
    django_assert_max_num_queries: object,
) -> None:
    people = MembershipFactory.create_batch(200, congregation=congregation)
    for n in range(20):
        services.form_crew(
            congregation=congregation,
            name=f"Crew {n}",
            members=[member, *(m.member for m in people[n * 3 : n * 3 + 2])],
        )
    client.force_login(member)
    # + 5: the walls' fixed cost per request in a test (the congregation's lookup, a
    # SAVEPOINT and its RELEASE, and setting and clearing the congregation). What waits
    # for the member is one query, as the crew invitations it replaced were.
    with django_assert_max_num_queries(12 + 5):  # type: ignore[operator]
        response = client.get(congregation_url("crews:congregation", congregation))
    assert len(response.context["overview"].roster.members) == 203
    assert len(response.context["overview"].mine) == 21


def test_names_and_work_with_apostrophes_read_right_and_are_escaped(
    client: Client, congregation: Congregation, member: Self
) -> None:
    """The draw that once failed at random, made on purpose: the page escapes what a
    person wrote, and a browser shows it as written."""
    MembershipFactory.create(
        congregation=congregation,
        member__display_name="Seán O'Connor",
        member__paid_work="Politician's assistant & <b>clerk</b>",
    )
    client.force_login(member)

    response = client.get(congregation_url("crews:people", congregation))

    assert "Seán O'Connor" in text(response)
    assert "Politician's assistant & <b>clerk</b>" in text(response)
    assert "Politician&#x27;s assistant &amp; &lt;b&gt;clerk&lt;/b&gt;" in response.content.decode()


def test_the_dating_pool_shows_work_and_crews(
    client: Client,
    congregation: Congregation,
    member: Self,
    crew_mate: Self,
    crew: Crew,
) -> None:
    services.form_crew(
        congregation=congregation, name="Pair", members=[member, crew_mate], kind=Kind.DYAD
    )
    client.force_login(member)

    response = client.get(congregation_url("crews:people", congregation))

    assert response.status_code == 200
    page = text(response)
    own = page.split(f'data-self="{member.pk}"')[1].split("</li>")[0]
    assert "(you)" in own
    assert "— in one crew and one dyad" in own
    assert crew_mate.paid_work in page
    assert "growing food together" in page
    propose = congregation_url("crews:propose", congregation)
    assert f'{propose}?with={crew_mate.pk}"' in page
    # The cards are rendered once for everyone; the viewer's own has no link to themselves.
    assert f"?with={member.pk}" not in page
    assert page.count("(you)") == 1
    other = Client()
    other.force_login(crew_mate)
    seen_by_other = text(other.get(congregation_url("crews:people", congregation)))
    assert f'{propose}?with={member.pk}"' in seen_by_other


def test_the_dating_pool_runs_a_bounded_number_of_queries(
    client: Client,
    congregation: Congregation,
    member: Self,
    django_assert_max_num_queries: object,
) -> None:
    MembershipFactory.create_batch(200, congregation=congregation)
    client.force_login(member)
    # + 5: the walls' fixed cost per request in a test (the congregation's lookup, a
    # SAVEPOINT and its RELEASE, and setting and clearing the congregation).
    with django_assert_max_num_queries(8 + 5):  # type: ignore[operator]
        assert client.get(congregation_url("crews:people", congregation)).status_code == 200


def test_the_global_home_shows_the_next_meeting_of_each_crew(
    client: Client, member: Self, crew: Crew, now: datetime
) -> None:
    meeting = scheduled_meeting(crew, now + timedelta(days=2))
    client.force_login(member)
    page = client.get(reverse("home")).content.decode()
    assert "Tuesday crew" in page
    assert congregation_url("crews:meeting", crew.congregation, pk=meeting.pk) in page


@pytest.mark.parametrize("name", ["congregation", "people"])
def test_pages_refuse_post(
    client: Client, congregation: Congregation, member: Self, name: str
) -> None:
    client.force_login(member)
    assert client.post(congregation_url(f"crews:{name}", congregation)).status_code == 405


def test_the_cached_roster_shows_a_change_at_once(
    client: Client, congregation: Congregation, member: Self, neighbour: Self, crew: Crew
) -> None:
    client.force_login(member)
    home, pool = (
        congregation_url("crews:congregation", congregation),
        congregation_url("crews:people", congregation),
    )
    assert neighbour.display_name in text(client.get(home))
    client.get(pool)

    services.invite_to_crew(crew=crew, invitee=neighbour, invited_by=member)
    with tenant(crew):
        invitation = neighbour.crew_invitations.get()
    services.answer_crew_invitation(invitation=invitation, answered_by=neighbour, accept=True)
    neighbour.paid_work = "beekeeper"
    neighbour.save()

    assert "4 people" in client.get(home).content.decode()
    assert "beekeeper" in client.get(pool).content.decode()
