"""Accounts are django-allauth's: signing in and out, resetting and changing a password,
changing the email address, and the accounts that existed before it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core import mail
from django.test import Client

from congregations.models import Congregation, Self
from tests.pages import text

from ..factories import PASSWORD, SelfFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def sign_in(client: Client, email: str, password: str) -> Any:
    return client.post(LOGIN, {"login": email, "password": password})


def link_in(message: mail.EmailMessage) -> str:
    found = re.search(r"https?://[^/\s]+(/\S+)", str(message.body))
    assert found, message.body
    return found.group(1)


def test_a_self_from_before_allauth_signs_in_with_their_old_password(client: Client) -> None:
    """A Self as the app made them before the upgrade: a password, no EmailAddress row."""
    ana = SelfFactory.create(email="ana@example.net", display_name="Ana", email_address=False)
    assert not EmailAddress.objects.filter(user=ana).exists()

    response = sign_in(client, "ANA@example.net ", PASSWORD)

    assert response.status_code == 302
    assert "Welcome, Ana" in text(client.get(response["Location"]))


def test_the_upgrade_gives_every_earlier_self_a_verified_primary_address() -> None:
    migration = __import__(
        "congregations.migrations.0009_selves_email_addresses", fromlist=["add_email_addresses"]
    )
    ana = SelfFactory.create(email="ana@example.net", email_address=False)
    ben = SelfFactory.create(email="ben@example.net")

    migration.add_email_addresses(apps, None)
    migration.add_email_addresses(apps, None)  # a second run adds nothing

    assert list(
        EmailAddress.objects.filter(user=ana).values_list("email", "primary", "verified")
    ) == [("ana@example.net", True, True)]
    assert EmailAddress.objects.filter(user=ben).count() == 1


def test_a_wrong_password_is_refused_in_plain_words(client: Client) -> None:
    SelfFactory.create(email="ana@example.net")

    response = sign_in(client, "ana@example.net", "not-the-password")

    assert response.status_code == 200
    assert "That email address and password do not match." in text(response)


def test_signing_out_says_so(client: Client) -> None:
    SelfFactory.create(email="ana@example.net")
    sign_in(client, "ana@example.net", PASSWORD)

    response = client.post("/accounts/logout/", follow=True)

    assert "You have signed out." in text(response)
    assert response.wsgi_request.path == LOGIN


def test_nobody_signs_up_without_an_invitation(client: Client) -> None:
    client.post("/accounts/signup/", {"email": "eve@example.net", "password1": "a-long-pass-9"})

    assert not Self.objects.filter(email="eve@example.net").exists()


def test_a_forgotten_password_is_reset_by_the_emailed_link(client: Client) -> None:
    SelfFactory.create(email="ana@example.net")

    client.post("/accounts/password/reset/", {"email": "ana@example.net"})
    (message,) = mail.outbox
    assert message.to == ["ana@example.net"]
    form = client.get(link_in(message), follow=True)
    client.post(
        form.wsgi_request.path,
        {"password1": "a-brand-new-secret", "password2": "a-brand-new-secret"},
    )

    assert sign_in(Client(), "ana@example.net", "a-brand-new-secret").status_code == 302
    assert sign_in(Client(), "ana@example.net", PASSWORD).status_code == 200


def test_a_self_changes_their_password(client: Client) -> None:
    ana = SelfFactory.create(email="ana@example.net")
    client.force_login(ana)

    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "another-good-one", "password2": "another-good-one"},
    )

    assert response.status_code == 302
    ana.refresh_from_db()
    assert ana.check_password("another-good-one")


def test_a_new_address_replaces_the_old_one_only_once_verified(client: Client) -> None:
    ana = SelfFactory.create(email="ana@example.net")
    client.force_login(ana)

    client.post("/accounts/email/", {"action_add": "", "email": "ana@elsewhere.example"})
    ana.refresh_from_db()
    assert ana.email == "ana@example.net"  # not until the new address answers
    message = next(m for m in mail.outbox if m.to == ["ana@elsewhere.example"])
    confirm = link_in(message)
    client.post(confirm)

    ana.refresh_from_db()
    assert ana.email == "ana@elsewhere.example"
    assert list(EmailAddress.objects.filter(user=ana).values_list("email", "verified")) == [
        ("ana@elsewhere.example", True)
    ]


def test_the_profile_links_to_every_way_of_signing_in(
    client: Client, congregation: Congregation
) -> None:
    ana = SelfFactory.create(email="ana@example.net")
    client.force_login(ana)

    page = client.get("/profile/").content.decode()

    for url in ("/accounts/email/", "/accounts/password/change/"):
        assert f'href="{url}"' in page
