"""The welcome's timezone field attacked in a browser: devices reporting an old name or a
zone the list lacks, the filter by keyboard only, a phone's width, and a zone saved
before the list on the profile."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from congregations.models import Self

from ..factories import PASSWORD
from .conftest import refusals
from .test_welcome import kotahi

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in_from(browser: Browser, live_server: Any, zone: str, **context: Any) -> Page:
    page = browser.new_context(timezone_id=zone, **context).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("ana@example.net")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    return page


@pytest.mark.parametrize(
    ("reported", "chosen"),
    [
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("Etc/GMT-3", "UTC"),  # not on the list: their saved zone stays
    ],
)
def test_the_device_zone_is_chosen_by_its_place_whatever_name_it_reports(
    browser: Browser, live_server: Any, reported: str, chosen: str
) -> None:
    congregation, _ = kotahi()
    Self.objects.filter(email="ana@example.net").update(timezone="UTC")  # new here
    page = signed_in_from(browser, live_server, reported)
    refused = refusals(page)

    page.goto(f"{live_server.url}/c/{congregation.slug}/welcome/")

    expect(page.get_by_label("Timezone:", exact=True)).to_have_value(chosen)
    page.get_by_role("button", name="Save and go on").click()
    expect(page.get_by_role("heading", name="People of Kotahi")).to_be_visible()
    assert str(Self.objects.get(email="ana@example.net").timezone) == chosen
    assert refused == []


def test_the_filter_works_with_the_keyboard_only(browser: Browser, live_server: Any) -> None:
    congregation, _ = kotahi()
    page = signed_in_from(browser, live_server, "UTC")
    page.goto(f"{live_server.url}/c/{congregation.slug}/welcome/")
    page.locator("body").focus()
    select = page.get_by_label("Timezone:", exact=True)

    page.keyboard.press("Tab")  # past the skip link and the navigation, to the filter
    for _ in range(40):
        if page.evaluate("document.activeElement.type") == "search":
            break
        page.keyboard.press("Tab")
    page.keyboard.type("paris")
    page.keyboard.press("ArrowDown")  # into the list
    expect(select).to_be_focused()
    page.keyboard.press("ArrowDown")  # the only place shown stays chosen
    page.keyboard.press("ArrowUp")

    expect(select).to_have_value("Europe/Paris")
    page.keyboard.press("Enter")  # submits the form, as in any form
    expect(page.get_by_role("heading", name="People of Kotahi")).to_be_visible()
    assert str(Self.objects.get(email="ana@example.net").timezone) == "Europe/Paris"


@pytest.mark.parametrize("path", ["/c/{slug}/welcome/", "/profile/", "/c/{slug}/crews/new/"])
def test_the_timezone_pages_fit_a_phone(browser: Browser, live_server: Any, path: str) -> None:
    congregation, _ = kotahi()
    page = signed_in_from(
        browser,
        live_server,
        "America/Argentina/Buenos_Aires",
        viewport={"width": 375, "height": 800},
    )
    refused = refusals(page)

    page.goto(live_server.url + path.format(slug=congregation.slug))
    page.get_by_label("Find your timezone").fill("argentina")

    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    assert refused == []


def test_a_zone_saved_before_the_list_stays_when_the_profile_is_saved(
    browser: Browser, live_server: Any
) -> None:
    kotahi()
    Self.objects.filter(email="ana@example.net").update(timezone="Etc/GMT-3")
    page = signed_in_from(browser, live_server, "Europe/London")

    page.goto(f"{live_server.url}/profile/")
    page.get_by_label("The work I do for money").fill("Carpentry")
    page.get_by_role("button", name="Save").first.click()

    ana = Self.objects.get(email="ana@example.net")
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    ana.refresh_from_db()
    assert (str(ana.timezone), ana.paid_work) == ("Etc/GMT-3", "Carpentry")


def test_a_zone_chosen_already_stays_chosen_and_the_device_s_is_offered_first(
    browser: Browser, live_server: Any
) -> None:
    congregation, ana = kotahi()
    Self.objects.filter(pk=ana.pk).update(timezone="Europe/Amsterdam")
    page = signed_in_from(browser, live_server, "Asia/Calcutta")

    page.goto(f"{live_server.url}/c/{congregation.slug}/welcome/")

    select = page.get_by_label("Timezone:", exact=True)
    expect(select).to_have_value("Europe/Amsterdam")
    expect(select.locator("option").first).to_have_attribute("value", "Asia/Kolkata")
