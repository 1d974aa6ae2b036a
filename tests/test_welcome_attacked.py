"""The welcome step and the timezone field, attacked: another congregation's welcome,
hostile values, where "next" leads, an invitation withdrawn meanwhile, and people whose
saved timezone names no place on the list."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews.services import leave_crew, propose_crew
from tests.builders import congregation_url, signed_in, writes_nothing
from tests.factories import CongregationFactory, MembershipFactory
from tests.pages import text

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

ANSWERS = {
    "timezone": "Europe/Oslo",
    "paid_work": "I fix bikes.",
    "meaningful_work": "Choir.",
    "reminders_enabled": "on",
}


def welcome(congregation: Congregation) -> str:
    return congregation_url("reciprocity:welcome", congregation)


def test_hostile_values_are_refused_next_to_their_field_and_nothing_is_saved(
    congregation: Congregation, member: Self
) -> None:
    client = signed_in(member)

    for timezone, work in (
        ("../../etc/passwd", "<script>alert(1)</script>"),
        ("Europe/London\x00", "fine"),
        ("localtime", "a\x00b"),
        ("x" * 10_000, "x" * 10_000),
    ):
        with writes_nothing():
            response = client.post(
                welcome(congregation), {**ANSWERS, "timezone": timezone, "paid_work": work}
            )
        assert response.status_code == 200
        assert "timezone" in response.context["form"].errors
        assert "<script>alert(1)</script>" not in response.content.decode()


def test_signed_out_posting_the_welcome_changes_nothing(congregation: Congregation) -> None:
    with writes_nothing():
        response = Client().post(welcome(congregation), ANSWERS)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_next_is_never_a_crew_invitation_of_another_congregation(
    congregation: Congregation, member: Self
) -> None:
    elsewhere = CongregationFactory.create(name="Elsewhere")
    MembershipFactory.create(congregation=elsewhere, member=member)
    outsider = MembershipFactory.create(congregation=elsewhere).member
    friend = MembershipFactory.create(congregation=elsewhere).member
    crew = propose_crew(
        congregation=elsewhere, name="Far", proposed_by=outsider, invitees=[member, friend]
    )
    client = signed_in(member)

    page = client.get(welcome(congregation))
    response = client.post(welcome(congregation), ANSWERS)

    assert congregation_url("crews:crew", elsewhere, pk=crew.pk) not in page.content.decode()
    assert response["Location"] == congregation_url("crews:people", congregation)


def test_a_crew_invitation_withdrawn_after_the_page_showed_it_is_not_where_next(
    congregation: Congregation, member: Self, crew_mate: Self, neighbour: Self
) -> None:
    crew = propose_crew(
        congregation=congregation, name="Oak", proposed_by=crew_mate, invitees=[member, neighbour]
    )
    client = signed_in(member)
    assert "invites you to the crew Oak" in text(client.get(welcome(congregation)))

    with tenant(congregation):
        leave_crew(crew=crew, member=crew_mate)
    response = client.post(welcome(congregation), ANSWERS)

    assert response["Location"] == congregation_url("crews:people", congregation)
    member.refresh_from_db()
    assert str(member.timezone) == "Europe/Oslo"


def test_a_query_string_next_is_not_followed(congregation: Congregation, member: Self) -> None:
    response = signed_in(member).post(
        welcome(congregation) + "?next=https://evil.example/&next_url=//evil.example", ANSWERS
    )

    assert response["Location"] == congregation_url("crews:people", congregation)


@pytest.mark.parametrize(
    ("saved", "kept"),
    [
        ("Etc/GMT-3", "Etc/GMT-3"),  # no place, but a zone the old field offered
        ("EST5EDT", "EST5EDT"),
        ("GMT", "UTC"),  # the same clock as UTC
        ("US/Pacific", "America/Los_Angeles"),
        ("Asia/Calcutta", "Asia/Kolkata"),
    ],
)
def test_a_zone_saved_before_the_list_survives_saving_the_rest_of_the_profile(
    member: Self, saved: str, kept: str
) -> None:
    Self.objects.filter(pk=member.pk).update(timezone=saved)
    member.refresh_from_db()
    client = signed_in(member)
    page = client.get("/profile/").content.decode()
    # The browser sends back the option the page chose; none chosen, it sends another.
    assert f'<option value="{kept}" selected>' in page

    response = client.post(
        "/profile/",
        {"display_name": member.display_name, "timezone": kept, "paid_work": "Carpentry"},
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.paid_work, str(member.timezone)) == ("Carpentry", kept)


def test_a_zone_saved_before_the_list_is_offered_to_its_owner_only(
    member: Self, crew_mate: Self
) -> None:
    Self.objects.filter(pk=member.pk).update(timezone="Etc/GMT-3")
    client = signed_in(crew_mate)

    with writes_nothing():
        response = client.post(
            "/profile/", {"display_name": crew_mate.display_name, "timezone": "Etc/GMT-3"}
        )

    assert "timezone" in response.context["form"].errors
    assert "Etc/GMT-3" not in client.get("/profile/").content.decode()


def test_proposing_a_crew_keeps_the_zone_saved_before_the_list_as_its_timezone(
    congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    Self.objects.filter(pk=member.pk).update(timezone="Etc/GMT-3")
    member.refresh_from_db()

    page = signed_in(member).get(congregation_url("crews:propose", congregation))

    assert '<option value="Etc/GMT-3" selected>' in page.content.decode()


def test_the_admin_shows_a_zone_saved_before_the_list_as_chosen(member: Self, client: Any) -> None:
    Self.objects.filter(pk=member.pk).update(timezone="Etc/GMT-3")
    client.force_login(Self.objects.create_superuser("op@example.net", "pw", display_name="Op"))

    page = client.get(f"/admin/congregations/self/{member.pk}/change/").content.decode()

    assert '<option value="Etc/GMT-3" selected>' in page
