"""Pages outside any congregation: starting one, and a Self's own profile."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils.html import escape

from congregations.models import DEFAULT_PURPOSE, Congregation, Membership, Role, Self
from congregations.request_keys import new_request_key
from congregations.tenancy import across_congregations
from tests.builders import congregation_url, membership_of

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_the_home_page_links_to_starting_a_congregation(client: Client, member: Self) -> None:
    client.force_login(member)

    assert 'href="/congregations/new/"' in client.get("/").content.decode()


def test_a_signed_in_self_starts_a_congregation_and_facilitates_it(
    client: Client, outsider: Self
) -> None:
    client.force_login(outsider)
    form = client.get("/congregations/new/")
    assert form.status_code == 200
    assert DEFAULT_PURPOSE in form.content.decode()

    response = client.post(
        "/congregations/new/",
        {
            "name": "Western Europe",
            "purpose": DEFAULT_PURPOSE,
            "request_key": form.context["form"]["request_key"].value(),
        },
    )

    congregation = Congregation.objects.get(name="Western Europe")
    assert response.status_code == 302
    assert response["Location"] == congregation_url("crews:congregation", congregation)
    assert membership_of(outsider, congregation).role == Role.FACILITATOR
    assert client.get(response["Location"]).status_code == 200


def test_a_congregation_needs_a_name(client: Client, outsider: Self) -> None:
    client.force_login(outsider)

    response = client.post(
        "/congregations/new/",
        {"name": "", "purpose": DEFAULT_PURPOSE, "request_key": new_request_key(outsider)},
    )

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    # In any congregation: a new one would have been another.
    with across_congregations():
        assert Membership.objects.filter(member=outsider).count() == 1  # only their old one


def test_a_refusal_from_the_service_shows_on_the_form(client: Client, outsider: Self) -> None:
    """How the page places a refusal on and above the fields. That a refused start writes
    nothing is shown against the database, unmocked, in test_input_at_the_door."""
    client.force_login(outsider)
    refusal = ValidationError({"slug": "That address is taken.", "name": "Pick another."})

    with mock.patch("congregations.services.create_congregation", side_effect=refusal):
        response = client.post(
            "/congregations/new/",
            {"name": "Kotahi", "purpose": "food", "request_key": new_request_key(outsider)},
        )

    form = response.context["form"]
    assert form.errors["name"] == ["Pick another."]
    assert form.non_field_errors() == ["That address is taken."]


def test_starting_a_congregation_needs_signing_in(client: Client) -> None:
    response = client.get("/congregations/new/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_starting_a_congregation_takes_only_get_and_post(client: Client, member: Self) -> None:
    client.force_login(member)

    assert client.put("/congregations/new/").status_code == 405


def test_a_self_edits_their_profile(client: Client, member: Self) -> None:
    client.force_login(member)
    assert 'href="/profile/"' in client.get("/").content.decode()

    response = client.post(
        "/profile/",
        {
            "display_name": "Ben O.",
            "timezone": "Pacific/Auckland",
            "paid_work": "web developer",
            "meaningful_work": "a community bike workshop",
        },
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.display_name == "Ben O."
    assert str(member.timezone) == "Pacific/Auckland"
    assert member.meaningful_work == "a community bike workshop"
    assert member.reminders_enabled is False  # an unticked box


def test_a_refused_profile_shows_errors_next_to_the_field_and_the_old_name_in_the_nav(
    client: Client, member: Self
) -> None:
    client.force_login(member)
    name = member.display_name

    response = client.post("/profile/", {"display_name": "", "timezone": "Mars/Olympus"})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"display_name", "timezone"}
    assert f'aria-current="page">{escape(name)}</a>' in response.content.decode()
    member.refresh_from_db()
    assert member.display_name == name


def test_the_profile_needs_signing_in(client: Client) -> None:
    assert client.get("/profile/")["Location"].startswith("/accounts/login/")


def test_the_profile_takes_only_get_and_post(client: Client, member: Self) -> None:
    client.force_login(member)

    assert client.patch("/profile/", {"display_name": "X"}).status_code == 405
    member.refresh_from_db()
    assert member.display_name != "X"
