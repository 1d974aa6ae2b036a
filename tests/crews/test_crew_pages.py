"""A crew's page and its history: for the crew's members; a facilitator sees its name and
size; anyone else, 404."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.test import Client

from congregations.models import Congregation, Self
from congregations.selectors import memberships_of
from congregations.tenancy import tenant
from crews import services
from crews.models import Crew, Meeting
from tests.builders import congregation_url, scheduled_meeting
from tests.pages import text

from ..factories import MembershipFactory


@pytest.mark.embedded
def test_a_member_sees_the_crew(
    client: Client,
    congregation: Congregation,
    member: Self,
    crew: Crew,
    upcoming_meeting: Meeting,
    started_meeting: Meeting,
) -> None:
    client.force_login(member)
    response = client.get(congregation_url("crews:crew", congregation, pk=crew.pk))
    assert response.status_code == 200
    page = response.context["page"]
    assert page.next_meeting == upcoming_meeting
    assert page.to_log == [started_meeting]
    assert len(page.members) == 3
    assert b"Schedule a meeting" in response.content


@pytest.mark.embedded
def test_a_facilitator_outside_the_crew_sees_its_name_and_size_only(
    client: Client,
    congregation: Congregation,
    facilitator: Self,
    crew: Crew,
    started_meeting: Meeting,
    member: Self,
) -> None:
    services.log_meeting(
        meeting=started_meeting,
        present=[member],
        logged_by=member,
        reflections="A private reflection",
    )
    client.force_login(facilitator)
    response = client.get(congregation_url("crews:crew", congregation, pk=crew.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Tuesday crew" in page
    assert "3 people" in page
    assert "A private reflection" not in page
    assert member.display_name not in page
    assert congregation_url("crews:meeting", congregation, pk=started_meeting.pk) not in page
    assert (
        client.get(
            congregation_url("crews:meeting", congregation, pk=started_meeting.pk)
        ).status_code
        == 404
    )
    assert (
        client.get(congregation_url("crews:history", congregation, pk=crew.pk)).status_code == 404
    )


@pytest.mark.embedded
def test_someone_invited_sees_what_they_are_invited_to(
    client: Client, congregation: Congregation, member: Self, crew: Crew, neighbour: Self
) -> None:
    services.invite_to_crew(crew=crew, invitee=neighbour, invited_by=member)
    client.force_login(neighbour)
    response = client.get(congregation_url("crews:crew", congregation, pk=crew.pk))
    assert response.status_code == 200
    assert f"Join {crew.name}" in response.content.decode()
    assert member.display_name in text(response)


@pytest.mark.embedded
@pytest.mark.parametrize("name", ["crew", "history"])
def test_a_member_outside_the_crew_gets_404(
    client: Client, congregation: Congregation, crew: Crew, neighbour: Self, name: str
) -> None:
    client.force_login(neighbour)
    assert (
        client.get(congregation_url(f"crews:{name}", congregation, pk=crew.pk)).status_code == 404
    )


@pytest.mark.embedded
def test_an_outsider_gets_404(
    client: Client, congregation: Congregation, crew: Crew, outsider: Self
) -> None:
    client.force_login(outsider)
    assert client.get(congregation_url("crews:crew", congregation, pk=crew.pk)).status_code == 404


@pytest.mark.embedded
def test_a_crew_of_another_congregation_is_404_in_this_one(
    client: Client, crew: Crew, outsider: Self
) -> None:
    [elsewhere] = (m.congregation for m in memberships_of(self_=outsider))
    client.force_login(outsider)
    assert client.get(congregation_url("crews:crew", elsewhere, pk=crew.pk)).status_code == 404


@pytest.mark.embedded
@pytest.mark.parametrize("pk", [0, 2**63 - 1, 2**63, 10**30])
def test_a_crew_id_no_row_can_have_is_404_for_a_member(
    client: Client, congregation: Congregation, member: Self, pk: int
) -> None:
    # The seat is looked up by a compiled query (crews.selectors.SEAT), the URL's id bound
    # into it as it is, past what a bigint holds too.
    client.force_login(member)
    for name in ("crew", "history"):
        url = congregation_url(f"crews:{name}", congregation, pk=pk)
        assert client.get(url).status_code == 404


@pytest.mark.embedded
def test_anonymous_is_sent_to_sign_in(
    client: Client, congregation: Congregation, crew: Crew
) -> None:
    response = client.get(congregation_url("crews:crew", congregation, pk=crew.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.fixture
def busy_crew(congregation: Congregation, member: Self, now: datetime) -> Crew:
    """Eight members and a hundred past meetings, all logged."""
    others = [MembershipFactory.create(congregation=congregation).member for _ in range(7)]
    crew = services.form_crew(
        congregation=congregation,
        name="Busy",
        members=[member, *others],
        now=now - timedelta(days=900),
    )
    for n in range(100):
        meeting = scheduled_meeting(crew, now - timedelta(days=8 * (n + 1)))
        services.log_meeting(
            meeting=meeting,
            present=[member, *others[: n % 8]],
            logged_by=member,
            reflections=f"Meeting {n}",
            now=meeting.starts_at + timedelta(hours=1),
        )
    scheduled_meeting(crew, now + timedelta(days=2))
    return crew


# Not in the embedded pass (pytest -m embedded): a hundred logged meetings make it slow on any
# database, and the queries it counts are the same on both.
def test_the_crew_page_and_history_run_a_bounded_number_of_queries(
    client: Client,
    congregation: Congregation,
    member: Self,
    busy_crew: Crew,
    django_assert_max_num_queries: object,
) -> None:
    client.force_login(member)
    crew_page = congregation_url("crews:crew", congregation, pk=busy_crew.pk)
    history = congregation_url("crews:history", congregation, pk=busy_crew.pk) + "?page=2"
    # + 5: the walls' fixed cost per request in a test (the congregation's lookup, a
    # SAVEPOINT and its RELEASE, and setting and clearing the congregation).
    with django_assert_max_num_queries(9 + 5):  # type: ignore[operator]
        page = text(client.get(crew_page))
    members = page.split("<h2>Members</h2>", 1)[1].split("</ul>", 1)[0]
    assert members.count("<li>") == 8
    recent = page.split("<h2>Where we have been</h2>", 1)[1].split("</ul>", 1)[0]
    assert recent.count("<li>") == 5
    # Then what every member sees alike is read from the cache: the Self, their seats in
    # the congregation and the crew.
    with django_assert_max_num_queries(3 + 5):  # type: ignore[operator]
        assert without_tokens(text(client.get(crew_page))) == without_tokens(page)
    for _ in range(2):
        with django_assert_max_num_queries(5 + 5):  # type: ignore[operator]
            page = text(client.get(history))
        lines = page.split('<ul class="cards">', 1)[1].split("</ul>", 1)[0]
        starts = re.findall(r'<time datetime="([^"]+)">', lines)
        assert len(starts) == 20
        assert starts == sorted(starts, reverse=True)
        assert "logged: 1 present" in lines


def without_tokens(page: str) -> str:
    """The page without what each request makes afresh: its CSRF tokens and form keys."""
    page = re.sub(r'"X-CSRFToken": "[^"]+"', "", page)
    return re.sub(r'name="(csrfmiddlewaretoken|request_key)" value="[^"]+"', "", page)


# Not in the embedded pass either: the same hundred meetings.
def test_the_history_is_newest_first_and_paginated(
    client: Client, congregation: Congregation, member: Self, busy_crew: Crew
) -> None:
    with tenant(busy_crew):
        newest = Meeting.objects.get(crew=busy_crew, reflections="Meeting 0")
    client.force_login(member)
    page = text(client.get(congregation_url("crews:history", congregation, pk=busy_crew.pk)))
    lines = page.split('<ul class="cards">', 1)[1]
    first = lines.split("<li>", 2)[1]
    assert congregation_url("crews:meeting", congregation, pk=newest.pk) in first
    assert "Page 1 of 5" in page
    assert "?page=2" in page
