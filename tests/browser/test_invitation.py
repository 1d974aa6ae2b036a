from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from congregations.models import Membership, Role
from congregations.services.outbox import send_due_emails
from congregations.tenancy import tenant

from ..factories import PASSWORD, CongregationFactory, MembershipFactory, SelfFactory
from .conftest import refusals

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_facilitator_invites_and_the_invitee_is_welcomed_in_the_congregation(
    page: Page, browser: Browser, sign_in: Any, live_server: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url  # the emailed link points at this test server
    congregation = CongregationFactory.create(name="Kotahi")
    ana = SelfFactory.create(email="ana@example.net", display_name="Ana")
    MembershipFactory.create(member=ana, congregation=congregation, role=Role.FACILITATOR)

    sign_in("ana@example.net", PASSWORD)
    page.get_by_role("link", name="Kotahi").first.click()
    page.get_by_role("link", name="Invitations").click()
    page.get_by_label("Email addresses, one a line").fill("ben@example.net\nnot an address")
    page.get_by_label("A personal note (optional)").fill("Come to the Thursday gathering.")
    page.get_by_role("button", name="Send the invitations").click()

    expect(
        page.get_by_text("Invited ben@example.net: the email with the link is on its way.")
    ).to_be_visible()
    expect(page.get_by_text("Not sent to not an address")).to_be_visible()
    send_due_emails()  # what the worker does within a minute
    (message,) = mail.outbox
    assert message.to == ["ben@example.net"]
    found = re.search(r"http://\S+/invitations/\S+/", str(message.body))
    assert found, message.body

    invitee = browser.new_page()  # a browser of their own, not signed in
    refused = refusals(invitee)
    invitee.goto(found.group(0))
    expect(invitee.get_by_role("heading", name="Ana invites you to Kotahi")).to_be_visible()
    expect(invitee.get_by_text("Come to the Thursday gathering.")).to_be_visible()
    invitee.get_by_label("Display name").fill("Ben")
    invitee.get_by_label("Password:", exact=True).fill("a-good-long-password")
    invitee.get_by_label("Password again").fill("a-good-long-password")
    invitee.get_by_role("button", name="Create my account and join").click()

    expect(invitee.get_by_role("heading", name="Welcome to Kotahi")).to_be_visible()
    assert invitee.url == f"{live_server.url}/c/{congregation.slug}/welcome/"
    with tenant(congregation):
        assert Membership.objects.filter(member__email="ben@example.net", left_at=None).exists()
    assert refused == []


def test_a_facilitator_revokes_an_invitation_in_place(
    page: Page, sign_in: Any, live_server: Any
) -> None:
    congregation = CongregationFactory.create(name="Kotahi")
    ana = SelfFactory.create(email="ana@example.net", display_name="Ana")
    MembershipFactory.create(member=ana, congregation=congregation, role=Role.FACILITATOR)
    sign_in("ana@example.net", PASSWORD)
    page.goto(f"{live_server.url}/c/{congregation.slug}/invitations/")
    page.get_by_label("Email addresses, one a line").fill("ben@example.net")
    page.get_by_role("button", name="Send the invitations").click()

    page.get_by_role("button", name="Revoke the invitation to ben@example.net").click()

    expect(page.get_by_text("The link sent to ben@example.net no longer works.")).to_be_visible()
    # htmx swapped the row: the batch report from before is still on the page.
    expect(
        page.get_by_text("Invited ben@example.net: the email with the link is on its way.")
    ).to_be_visible()
