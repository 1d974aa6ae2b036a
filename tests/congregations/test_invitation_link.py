"""The page an emailed invitation link opens. Every link that does not work gives the same
page with the same status, so the page reveals nothing about which invitations exist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.utils import timezone

from congregations.models import Congregation, Invitation, Self
from congregations.request_keys import new_request_key
from congregations.services import accept_invitation, invite, revoke_invitation
from congregations.tenancy import tenant
from tests.builders import congregation_url, membership_of
from tests.pages import text

from ..factories import PASSWORD, SelfFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

PASSWORDS = {"password1": "a-good-long-password", "password2": "a-good-long-password"}


def sign_up(name: str, congregation: Congregation) -> dict[str, str]:
    """The sign-up form as its page sends it."""
    return {"display_name": name, "request_key": new_request_key(congregation), **PASSWORDS}


def invalid_page(client: Client, token: str) -> str:
    response = client.get(f"/invitations/{token}/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "This invitation link does not work" in page
    return page


def test_the_link_shows_who_invites_to_what(client: Client, facilitator: Self, token: str) -> None:
    page = text(client.get(f"/invitations/{token}/"))

    assert f"{facilitator.display_name} invites you to Kotahi" in page
    assert "Come and meet the others." in page
    assert "ben@example.net" in page


def test_an_expired_link(client: Client, congregation: Congregation, token: str) -> None:
    with tenant(congregation):
        Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    invalid_page(client, token)


def test_a_revoked_link(
    client: Client, congregation: Congregation, facilitator: Self, token: str
) -> None:
    with tenant(congregation):
        invitation = Invitation.objects.get()
    revoke_invitation(invitation=invitation, revoked_by=facilitator)

    invalid_page(client, token)


def test_a_used_link(client: Client, token: str) -> None:
    accept_invitation(token=token, self_=SelfFactory.create(email="ben@example.net"))

    invalid_page(client, token)


@pytest.mark.parametrize("malformed", ["x", "not-a-token", "a" * 300, "%C3%A9t%C3%A9"])
def test_a_malformed_link(client: Client, malformed: str) -> None:
    invalid_page(client, malformed)


def test_a_link_opened_while_signed_in_with_another_address(
    client: Client, congregation: Congregation, outsider: Self, token: str
) -> None:
    client.force_login(outsider)

    invalid_page(client, token)
    response = client.post(f"/invitations/{token}/")

    assert response.status_code == 404
    with tenant(congregation):
        assert Invitation.objects.get().accepted_at is None


def test_every_broken_link_gives_the_same_page(
    client: Client, congregation: Congregation, facilitator: Self, outsider: Self
) -> None:
    tokens = {
        reason: invite(
            congregation=congregation,
            email=f"{reason}@example.net",
            invited_by=facilitator,
            send_email=False,
        )[1]
        for reason in ("expired", "revoked", "used", "other")
    }
    with tenant(congregation):
        Invitation.objects.filter(email="expired@example.net").update(expires_at=timezone.now())
        revoked = Invitation.objects.get(email="revoked@example.net")
    revoke_invitation(invitation=revoked, revoked_by=facilitator)
    accept_invitation(token=tokens["used"], self_=SelfFactory.create(email="used@example.net"))
    client.force_login(SelfFactory.create(email="someone@example.net", display_name="Someone"))

    pages = {
        invalid_page(client, t).split("<main")[1].split("</main>")[0]
        for t in [*tokens.values(), "nonsense"]
    }

    assert len(pages) == 1


def test_an_invited_person_creates_an_account_and_is_welcomed_in_the_congregation(
    client: Client, congregation: Congregation, token: str
) -> None:
    response = client.post(f"/invitations/{token}/", sign_up("Ben", congregation))

    assert response.status_code == 302
    assert response["Location"] == congregation_url("reciprocity:welcome", congregation)
    ben = Self.objects.get(email="ben@example.net")
    assert membership_of(ben, congregation).role == "member"
    assert client.get(response["Location"]).status_code == 200
    invalid_page(Client(), token)  # used up
    # The link proved the address: allauth holds it verified, as the account's own.
    assert list(
        EmailAddress.objects.filter(user=ben).values_list("email", "primary", "verified")
    ) == [("ben@example.net", True, True)]


def test_sign_up_errors_show_next_to_the_field(client: Client, token: str) -> None:
    response = client.post(
        f"/invitations/{token}/",
        {"display_name": "", "password1": "a-good-long-password", "password2": "another"},
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "display_name" in errors
    assert errors["password2"] == ["The two passwords are not the same."]
    assert not Self.objects.filter(email="ben@example.net").exists()


def test_an_existing_self_signs_in_then_joins(
    client: Client, congregation: Congregation, token: str
) -> None:
    ben = SelfFactory.create(email="ben@example.net")

    page = client.get(f"/invitations/{token}/").content.decode()
    assert "Sign in to accept" in page

    client.post("/accounts/login/", {"login": "ben@example.net", "password": PASSWORD})
    response = client.post(f"/invitations/{token}/")

    assert response.status_code == 302
    assert response["Location"] == congregation_url("reciprocity:welcome", congregation)
    assert membership_of(ben, congregation).role == "member"
    # The welcome comes once, on joining: the link opened again goes to the home page.
    again = client.get(f"/invitations/{token}/")
    assert again["Location"] == congregation_url("crews:congregation", congregation)


def test_the_link_page_takes_only_get_and_post(client: Client, token: str) -> None:
    assert client.delete(f"/invitations/{token}/").status_code == 405
