"""The welcome step a new member lands on: their timezone, their work and what they want
emailed, saved in one go, then on to the crew invitation waiting for them or the people
of the congregation."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from congregations.models import Ask, Congregation, EmailOptOut, Self
from crews.services import propose_crew
from tests.builders import congregation_url, signed_in, writes_nothing
from tests.pages import text

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

ANSWERS = {
    "timezone": "Pacific/Auckland",
    "paid_work": "I teach maths.",
    "meaningful_work": "Growing food with the neighbours.",
    "email_digest": "on",
    "emails_about": [Ask.CREW_INVITATION],
}


def welcome(congregation: Congregation) -> str:
    return congregation_url("reciprocity:welcome", congregation)


def test_the_welcome_asks_and_says_where_next(
    congregation: Congregation, member: Self, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    client = signed_in(member)

    with django_assert_max_num_queries(12):
        page = text(client.get(welcome(congregation)))

    assert "Welcome to Kotahi" in page
    for asked in (
        "Timezone",
        "The work I do for money",
        "The work most meaningful to me",
        "Email me before my crews meet",
        "Email me about",
    ):
        assert asked in page
    assert "See who does what work" in page
    assert congregation_url("crews:people", congregation) in page
    # Without JavaScript: a plain list by region, their zone chosen; with it, the filter.
    html = client.get(welcome(congregation)).content.decode()
    assert '<optgroup label="Europe">' in html
    assert f'<option value="{member.timezone}" selected>' in html
    assert "js/timezones.js" in html


def test_saving_keeps_the_answers_and_goes_to_the_people(
    congregation: Congregation, member: Self
) -> None:
    response = signed_in(member).post(welcome(congregation), ANSWERS)

    assert response.status_code == 302
    assert response["Location"] == congregation_url("crews:people", congregation)
    member.refresh_from_db()
    assert str(member.timezone) == "Pacific/Auckland"
    assert member.paid_work == "I teach maths."
    assert member.meaningful_work == "Growing food with the neighbours."
    assert member.reminders_enabled is False  # unticked
    assert member.email_digest is True
    off = set(EmailOptOut.objects.filter(owner=member).values_list("ask", flat=True))
    assert off == set(Ask.values) - {Ask.CREW_INVITATION}


def test_a_crew_invitation_waiting_is_where_next(
    congregation: Congregation, member: Self, crew_mate: Self, neighbour: Self
) -> None:
    crew = propose_crew(
        congregation=congregation, name="Oak", proposed_by=crew_mate, invitees=[member, neighbour]
    )
    client = signed_in(member)
    crew_page = congregation_url("crews:crew", congregation, pk=crew.pk)

    page = text(client.get(welcome(congregation)))
    response = client.post(welcome(congregation), ANSWERS)

    assert "invites you to the crew Oak" in page and crew_page in page
    assert response["Location"] == crew_page


def test_an_answer_refused_shows_next_to_its_field_and_saves_nothing(
    congregation: Congregation, member: Self
) -> None:
    client = signed_in(member)

    with writes_nothing():
        response = client.post(
            welcome(congregation), {**ANSWERS, "timezone": "localtime", "paid_work": "x" * 5000}
        )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"timezone", "paid_work"}


def test_an_old_name_for_a_place_is_saved_as_the_place(
    congregation: Congregation, member: Self
) -> None:
    signed_in(member).post(welcome(congregation), {**ANSWERS, "timezone": "US/Pacific"})

    member.refresh_from_db()
    assert str(member.timezone) == "America/Los_Angeles"


def test_the_welcome_takes_only_get_and_post(congregation: Congregation, member: Self) -> None:
    client = signed_in(member)

    with writes_nothing():
        assert client.put(welcome(congregation), ANSWERS).status_code == 405
        assert client.delete(welcome(congregation)).status_code == 405


def test_an_outsider_gets_404_and_changes_nothing(
    congregation: Congregation, outsider: Self
) -> None:
    client = signed_in(outsider)

    with writes_nothing():
        assert client.get(welcome(congregation)).status_code == 404
        assert client.post(welcome(congregation), ANSWERS).status_code == 404


def test_a_visitor_not_signed_in_is_sent_to_sign_in(congregation: Congregation) -> None:
    response = Client().get(welcome(congregation))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_welcome_runs_as_many_queries_however_much_waits(
    congregation: Congregation,
    member: Self,
    crew_mate: Self,
    neighbour: Self,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    client = signed_in(member)
    for name in ("Oak", "Elm", "Ash", "Fir"):
        propose_crew(
            congregation=congregation,
            name=name,
            proposed_by=crew_mate,
            invitees=[member, neighbour],
        )

    with django_assert_max_num_queries(12):
        assert client.get(welcome(congregation)).status_code == 200
    with django_assert_max_num_queries(25):
        assert client.post(welcome(congregation), ANSWERS).status_code == 302
