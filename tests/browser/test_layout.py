"""The navigation as a member sees it on a phone and on a desktop: one line either way, its
links folded behind a menu button on the phone, which opens from the keyboard; History, the
invitation form and the crew's chart as they read there; and these pages pass axe-core's
accessibility checks at both widths."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Locator, Page, ViewportSize, expect

from congregations.models import Congregation, Role, Self
from crews.services import form_crew, propose_crew

from ..builders import held_meeting, money_round
from ..factories import PASSWORD, CongregationFactory, MembershipFactory, SelfFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE: ViewportSize = {"width": 375, "height": 812}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
LINKS = ("People", "My scores", "Ventures", "Members", "Invitations", "Settings", "History")


@pytest.fixture
def kotahi(db: None) -> Congregation:
    """A facilitator with a long name in a congregation with a long name, and a second
    congregation for the switcher: the widest navigation a member gets."""
    congregation = CongregationFactory.create(name="Kotahi Community Gardens")
    fern = SelfFactory.create(email="fern@example.net", display_name="Fern Walker-Whitcombe")
    MembershipFactory.create(member=fern, congregation=congregation, role=Role.FACILITATOR)
    MembershipFactory.create(member=fern, congregation=CongregationFactory.create(name="Harbour"))
    ben, cai = (MembershipFactory.create(congregation=congregation).member for _ in range(2))
    # An invitation waiting for her: the unread count takes its room in the line too.
    propose_crew(congregation=congregation, name="Oak", proposed_by=ben, invitees=[fern, cai])
    return congregation


def middle(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return box["y"] + box["height"] / 2


def right(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"]


def fern_signed_in(context: Any, live_server: Any) -> Page:
    """Fern signed in, in a browser ``context`` of its own (its language, its screen)."""
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "fern@example.net")
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    expect(page.locator("#unread")).to_be_attached()  # signed in
    return page


def assert_passes_axe(page: Page) -> None:
    violations = Axe().run(page).response["violations"]
    assert violations == [], [(v["id"], v["nodes"][0]["html"]) for v in violations]


def test_on_a_phone_the_navigation_is_one_line_and_its_menu_opens_from_the_keyboard(
    page: Page, sign_in: Any, live_server: Any, kotahi: Congregation
) -> None:
    page.set_viewport_size(PHONE)
    sign_in("fern@example.net", PASSWORD)
    page.goto(f"{live_server.url}/c/{kotahi.slug}/")
    nav = page.get_by_role("navigation", name="Main")
    button = nav.get_by_role("button", name="Menu")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="People")).to_be_hidden()
    brand = nav.get_by_role("link", name="Microsolidarity")
    assert abs(middle(brand) - middle(button)) < 4  # side by side: one line
    assert_passes_axe(page)

    button.focus()
    page.keyboard.press("Enter")

    expect(button).to_have_attribute("aria-expanded", "true")
    for name in (*LINKS, "Notifications", "Fern Walker-Whitcombe"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
    assert_passes_axe(page)

    nav.locator(".switcher summary").click()  # the other congregations, one tap away
    nav.get_by_role("link", name="Harbour").click()
    expect(page).to_have_title("Microsolidarity · Harbour")

    page.go_back()
    page.get_by_role("button", name="Menu").focus()
    page.keyboard.press(" ")
    expect(nav.get_by_role("link", name="People")).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav.get_by_role("link", name="People")).to_be_hidden()
    expect(button).to_be_focused()


def test_on_a_desktop_the_navigation_is_one_line(
    page: Page, sign_in: Any, live_server: Any, kotahi: Congregation
) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in("fern@example.net", PASSWORD)
    page.goto(f"{live_server.url}/c/{kotahi.slug}/members/")
    nav = page.get_by_role("navigation", name="Main")
    expect(page.locator("#unread")).to_have_text("1 unread")
    expect(nav.get_by_role("button", name="Menu")).to_be_hidden()
    names = ("Microsolidarity", "Kotahi Community Gardens", *LINKS)
    items = [nav.get_by_role("link", name=name, exact=True) for name in names]
    items += [
        nav.get_by_role("link", name="Notifications"),
        nav.get_by_role("link", name="Fern Walker-Whitcombe"),
        nav.get_by_role("button", name="Sign out"),
    ]
    for item in items:
        expect(item).to_be_visible()
    middles = [middle(item) for item in items]
    assert max(middles) - min(middles) < 4, middles
    assert max(right(item) for item in items) <= DESKTOP["width"]  # none pushed off the page
    box = nav.bounding_box()
    assert box is not None and box["height"] < 70
    assert_passes_axe(page)


@pytest.mark.parametrize("language", ["es", "de"])
def test_the_longer_words_of_spanish_and_german_still_fit(
    browser: Any, live_server: Any, kotahi: Congregation, language: str
) -> None:
    """German's "Benachrichtigungen" and Spanish's longer sentences: the desktop navigation
    stays on one line, and no page is wider than a phone."""
    context = browser.new_context(locale=language, viewport=DESKTOP)
    page = fern_signed_in(context, live_server)
    home = f"{live_server.url}/c/{kotahi.slug}/"
    page.goto(home)
    nav = page.get_by_role("navigation")
    links = nav.locator("a:visible, button:visible")
    middles = [middle(links.nth(i)) for i in range(links.count())]
    assert max(middles) - min(middles) < 4, middles
    assert max(right(links.nth(i)) for i in range(links.count())) <= DESKTOP["width"]

    page.set_viewport_size(PHONE)
    for path in ("", "people/", "members/", "invitations/", "settings/", "history/", "me/"):
        page.goto(home + path)
        assert page.evaluate("document.documentElement.lang") == language
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], (path, wide)
    context.close()


def test_without_javascript_every_link_of_the_navigation_shows(
    browser: Any, live_server: Any, kotahi: Congregation
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("fern@example.net")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.goto(f"{live_server.url}/c/{kotahi.slug}/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("button", name="Menu")).to_be_hidden()
    for name in LINKS:
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_history_the_invitation_form_and_the_chart_read_well_and_pass_axe(
    page: Page, sign_in: Any, live_server: Any, kotahi: Congregation, viewport: ViewportSize
) -> None:
    page.set_viewport_size(viewport)
    home = f"{live_server.url}/c/{kotahi.slug}/"
    fern = Self.objects.get(email="fern@example.net")
    ben, cai = (
        MembershipFactory.create(congregation=kotahi, member__display_name=name).member
        for name in ("Ben Ngata", "Cai Rua")
    )
    a_month_ago = timezone.now() - timedelta(days=30)
    crew = form_crew(congregation=kotahi, name="Rātā", members=[fern, ben, cai], now=a_month_ago)
    money_round(held_meeting(crew), focus=ben, offerer=cai)
    quota = kotahi.invitation_quota
    sign_in("fern@example.net", PASSWORD)

    page.goto(f"{home}settings/")
    page.get_by_label("Invitations each member may send").fill(str(quota + 4))
    page.get_by_role("button", name="Save the settings").click()
    page.goto(f"{home}history/")
    changed = f"Invitations each member may send: {quota} → {quota + 4}"
    expect(page.get_by_text(changed)).to_be_visible()
    assert_passes_axe(page)

    page.goto(f"{home}invitations/")
    page.get_by_label("Email addresses, one a line").fill("ana@example.net\nnot an address")
    page.get_by_label("A personal note (optional)").fill("We meet on Thursdays.")
    page.get_by_role("button", name="Send the invitations").click()
    expect(page.get_by_label("Email addresses, one a line")).to_have_value("not an address")
    expect(page.get_by_label("A personal note (optional)")).to_have_value("We meet on Thursdays.")
    assert_passes_axe(page)

    page.goto(f"{home}crews/{crew.pk}/scores/")
    page.get_by_role("link", name="Ben Ngata", exact=True).click()
    expect(page.locator("figure.chart path.line.member")).to_have_count(1)
    assert_passes_axe(page)


@pytest.mark.parametrize("language", ["en", "es", "de"])
def test_the_games_rules_fit_a_phone_in_every_language(
    browser: Any, live_server: Any, kotahi: Congregation, language: str
) -> None:
    """German's level "5 Miteigentümer*innen" is one long word: the rules table must still
    fit a phone, rather than squeeze what earns the points into a column cut off at the
    screen's edge."""
    context = browser.new_context(locale=language, viewport=PHONE)
    page = fern_signed_in(context, live_server)
    page.goto(f"{live_server.url}/c/{kotahi.slug}/me/")
    assert page.evaluate("document.documentElement.lang") == language

    rules = page.locator("table.rules")
    wide, room = rules.evaluate("table => [table.scrollWidth, table.parentElement.clientWidth]")
    assert wide <= room, (wide, room)
    context.close()
