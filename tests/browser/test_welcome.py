"""A new member's first day, as they see it in a browser: the emailed link, their
account, the welcome with their device's timezone already chosen, and on to where the
page said; and the timezone list that filters as one types."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from congregations.models import Congregation, Role, Self
from congregations.services import invite
from congregations.services.outbox import send_due_emails
from crews.services import propose_crew

from ..factories import PASSWORD, CongregationFactory, MembershipFactory, SelfFactory
from .conftest import refusals

pytestmark = pytest.mark.django_db(transaction=True)

AUCKLAND = "Pacific/Auckland"


def kotahi() -> tuple[Congregation, Self]:
    congregation = CongregationFactory.create(name="Kotahi")
    ana = SelfFactory.create(email="ana@example.net", display_name="Ana")
    MembershipFactory.create(member=ana, congregation=congregation, role=Role.FACILITATOR)
    return congregation, ana


def emailed_link(congregation: Congregation, ana: Self) -> str:
    invite(congregation=congregation, email="ben@example.net", invited_by=ana)
    send_due_emails()  # what the worker does within a minute
    (message,) = mail.outbox
    found = re.search(r"http://\S+/invitations/\S+/", str(message.body))
    assert found, message.body
    return found.group(0)


def joins_from_auckland(browser: Browser, link: str) -> Page:
    """Ben, in a browser of his own set to Auckland's time, opens the link and signs up."""
    invitee = browser.new_context(timezone_id=AUCKLAND).new_page()
    invitee.goto(link)
    invitee.get_by_label("Display name").fill("Ben")
    invitee.get_by_label("Password:", exact=True).fill("a-good-long-password")
    invitee.get_by_label("Password again").fill("a-good-long-password")
    invitee.get_by_role("button", name="Create my account and join").click()
    expect(invitee.get_by_role("heading", name="Welcome to Kotahi")).to_be_visible()
    return invitee


def answers_and_saves(invitee: Page) -> str:
    """Ben answers the two questions of the people page and saves; where the page said
    he would go next."""
    expect(invitee.get_by_label("Timezone:", exact=True)).to_have_value(AUCKLAND)
    invitee.get_by_label("The work I do for money").fill("I teach maths.")
    invitee.get_by_label("The work most meaningful to me").fill("Growing food.")
    next_page = invitee.locator("#next a").get_attribute("href")
    assert next_page
    invitee.get_by_role("button", name="Save and go on").click()
    return next_page


@pytest.mark.parametrize("a_crew_waits", [False, True], ids=["nothing waits", "a crew waits"])
def test_a_new_member_is_welcomed_in_their_timezone_and_goes_where_the_page_said(
    browser: Browser, live_server: Any, settings: Any, a_crew_waits: bool
) -> None:
    settings.SITE_URL = live_server.url  # the emailed link points at this test server
    congregation, ana = kotahi()
    invitee = joins_from_auckland(browser, emailed_link(congregation, ana))
    refused = refusals(invitee)
    ben = Self.objects.get(email="ben@example.net")
    if a_crew_waits:
        cai = SelfFactory.create(email="cai@example.net", display_name="Cai")
        MembershipFactory.create(member=cai, congregation=congregation)
        oak = propose_crew(
            congregation=congregation, name="Oak", proposed_by=ana, invitees=[ben, cai]
        )
        invitee.reload()  # the welcome, revisited, knows what waits now
        expect(invitee.get_by_role("link", name="Ana invites you to the crew Oak.")).to_be_visible()

    next_page = answers_and_saves(invitee)

    if a_crew_waits:
        assert next_page == f"/c/{congregation.slug}/crews/{oak.pk}/"
        expect(invitee.get_by_role("heading", name="Oak")).to_be_visible()
    else:
        assert next_page == f"/c/{congregation.slug}/people/"
        expect(invitee.get_by_role("heading", name="People of Kotahi")).to_be_visible()
    assert invitee.url == f"{live_server.url}{next_page}"
    ben.refresh_from_db()
    assert (str(ben.timezone), ben.paid_work) == (AUCKLAND, "I teach maths.")
    assert refused == []


def test_the_timezone_list_filters_as_one_types(page: Page, sign_in: Any, live_server: Any) -> None:
    congregation, _ = kotahi()
    sign_in("ana@example.net", PASSWORD)
    page.goto(f"{live_server.url}/c/{congregation.slug}/welcome/")
    london = page.locator('option[value="Europe/London"]')
    tokyo = page.locator('option[value="Asia/Tokyo"]')
    expect(tokyo).to_be_visible()

    page.get_by_label("Find your timezone").press_sequentially("Lond")

    expect(london).to_be_visible()
    expect(tokyo).to_be_hidden()
    expect(page.get_by_label("Timezone:", exact=True)).to_have_value("Europe/London")
    page.get_by_label("Find your timezone").fill("")
    expect(tokyo).to_be_visible()


def test_the_welcome_passes_axe(page: Page, sign_in: Any, live_server: Any) -> None:
    congregation, _ = kotahi()
    sign_in("ana@example.net", PASSWORD)

    page.goto(f"{live_server.url}/c/{congregation.slug}/welcome/")

    violations = Axe().run(page).response["violations"]
    assert violations == [], [(v["id"], v["nodes"][0]["html"]) for v in violations]
