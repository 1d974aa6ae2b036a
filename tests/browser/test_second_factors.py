"""Second factors as a person meets them: an authenticator app, a passkey (Chromium's
virtual authenticator stands in for the phone), and a congregation that asks them of its
facilitators."""

from __future__ import annotations

import time
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from playwright.sync_api import Page, expect

from congregations.models import Role
from congregations.services import update_settings

from ..factories import PASSWORD, CongregationFactory, MembershipFactory, SelfFactory

pytestmark = pytest.mark.django_db(transaction=True)


def current_code(secret: str) -> str:
    """What the authenticator app shows now."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def confirm_it_is_me(page: Page) -> None:
    """allauth asks for the password again before a second factor is added."""
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()


def turn_on_the_authenticator_app(page: Page) -> str:
    """From a page that links to it; returns the secret the app would scan."""
    page.get_by_role("link", name="Use an authenticator app").click()
    confirm_it_is_me(page)
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(current_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    return secret


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def test_a_member_turns_on_an_authenticator_app_and_signs_in_with_its_code(
    page: Page, sign_in: Any, live_server: Any
) -> None:
    ana = SelfFactory.create(email="ana@example.net", display_name="Ana")
    MembershipFactory.create(member=ana, congregation=CongregationFactory.create(name="Kotahi"))
    sign_in("ana@example.net", PASSWORD)
    page.goto(f"{live_server.url}/profile/")

    secret = turn_on_the_authenticator_app(page)
    page.goto(f"{live_server.url}/profile/")
    expect(page.get_by_text("Authenticator app", exact=True)).to_be_visible()
    expect(page.get_by_text("Not used yet.")).to_be_visible()
    sign_out(page)
    sign_in("ana@example.net", PASSWORD)
    page.get_by_label("Code").fill(current_code(secret))
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_role("heading", name="Welcome, Ana")).to_be_visible()
    page.goto(f"{live_server.url}/profile/")
    expect(page.get_by_text("Last used")).to_be_visible()


def virtual_authenticator(page: Page) -> None:
    """A platform authenticator that holds passkeys and says yes at once, as a phone whose
    owner unlocks it would."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable", {"enableUI": False})
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def test_a_member_adds_a_passkey_and_signs_in_with_it(
    page: Page, sign_in: Any, live_server: Any
) -> None:
    assert live_server.url.startswith("http://localhost:"), "WebAuthn refuses an IP address"
    virtual_authenticator(page)
    ana = SelfFactory.create(email="ana@example.net", display_name="Ana")
    MembershipFactory.create(member=ana, congregation=CongregationFactory.create(name="Kotahi"))
    sign_in("ana@example.net", PASSWORD)
    page.goto(f"{live_server.url}/profile/")

    page.get_by_role("link", name="Add a passkey").click()
    confirm_it_is_me(page)
    page.get_by_label("Passwordless").check()
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    page.goto(f"{live_server.url}/profile/")
    expect(page.get_by_text("Passkey:")).to_be_visible()
    sign_out(page)
    page.get_by_role("button", name="Sign in with a passkey").click()

    expect(page.get_by_role("heading", name="Welcome, Ana")).to_be_visible()


def test_a_facilitator_is_asked_for_a_second_factor_before_a_facilitator_action(
    page: Page, sign_in: Any, live_server: Any
) -> None:
    kotahi = CongregationFactory.create(name="Kotahi")
    ana = MembershipFactory.create(congregation=kotahi, role=Role.FACILITATOR).member
    TOTP.activate(ana, generate_totp_secret())
    update_settings(congregation=kotahi, changed_by=ana, facilitators_need_second_factor=True)
    ben = SelfFactory.create(email="ben@example.net", display_name="Ben")
    MembershipFactory.create(member=ben, congregation=kotahi, role=Role.FACILITATOR)
    sign_in("ben@example.net", PASSWORD)

    page.get_by_role("link", name="Kotahi").first.click()
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Add a second factor first")).to_be_visible()
    expect(page.get_by_text("Kotahi asks each facilitator to confirm")).to_be_visible()
    turn_on_the_authenticator_app(page)
    page.goto(f"{live_server.url}/c/{kotahi.slug}/settings/")

    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    expect(page.get_by_label("Facilitators need a second factor")).to_be_checked()
