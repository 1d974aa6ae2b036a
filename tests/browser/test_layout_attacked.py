"""The navigation, History and the crew's chart attacked in a browser: names of a hundred
characters without a space and names of HTML, on a phone (no page scrolls sideways) and on
a desktop with the longest congregation name (the navigation stays one line)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Dialog, Page, expect

from congregations.models import Congregation, Role, Self
from congregations.services import update_settings
from crews.services import form_crew

from ..builders import held_meeting, money_round
from ..factories import PASSWORD, CongregationFactory, MembershipFactory, SelfFactory
from .test_layout import DESKTOP, PHONE, middle

pytestmark = pytest.mark.django_db(transaction=True)

LONG = "W" * 100
HTML = '<b>Ana</b><img src=x onerror="alert(1)">'


@pytest.fixture
def hostile(db: None) -> tuple[Congregation, int]:
    """A congregation named with 120 letters and no space, its facilitator and a member with
    100 letters and no space, another named in HTML, in a crew with points, and a settings
    change in History; returns the congregation and the crew's key."""
    congregation = CongregationFactory.create(name="K" * 120, slug="kotahi")
    fern = SelfFactory.create(email="fern@example.net", display_name=LONG)
    MembershipFactory.create(member=fern, congregation=congregation, role=Role.FACILITATOR)
    MembershipFactory.create(
        member=fern, congregation=CongregationFactory.create(name="H" * 120, slug="harbour")
    )
    ben, cai = (
        MembershipFactory.create(congregation=congregation, member__display_name=name).member
        for name in (HTML, "B" * 100)
    )
    crew = form_crew(
        congregation=congregation,
        name="C" * 100,
        members=[fern, ben, cai],
        now=timezone.now() - timedelta(days=30),
    )
    money_round(held_meeting(crew), focus=ben, offerer=cai)
    update_settings(congregation=congregation, changed_by=fern, name="N" * 120)
    return congregation, crew.pk


def scroll_width(page: Page) -> int:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert isinstance(width, int)
    return width


def too_wide(page: Page) -> list[str]:
    """The innermost elements reaching past the window's right edge, to say what does."""
    found = page.evaluate(
        """() => {
          const over = (e) => e.getBoundingClientRect().right > innerWidth + 1;
          return [...document.querySelectorAll("body *")]
            .filter((e) => over(e) && !e.closest(".table-wrap"))
            .filter((e) => ![...e.children].some(over))
            .map((e) => e.tagName + "." + e.className);
        }"""
    )
    assert isinstance(found, list)
    return found


def test_on_a_phone_no_page_scrolls_sideways_for_long_or_hostile_names(
    page: Page, sign_in: Any, live_server: Any, hostile: tuple[Congregation, int]
) -> None:
    congregation, crew_pk = hostile
    congregation.refresh_from_db()
    ben = Self.objects.get(display_name=HTML)
    dialogs: list[str] = []

    def heard(dialog: Dialog) -> None:  # an alert() would mean a name ran as markup
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", heard)
    page.set_viewport_size(PHONE)
    sign_in("fern@example.net", PASSWORD)
    home = f"{live_server.url}/c/{congregation.slug}/"
    for path in (
        "",
        "history/",
        f"crews/{crew_pk}/",
        f"crews/{crew_pk}/scores/",
        f"crews/{crew_pk}/scores/?member={ben.pk}",
        f"crews/{crew_pk}/scores/?member={Self.objects.get(display_name=LONG).pk}",
    ):
        page.goto(home + path)
        assert scroll_width(page) <= PHONE["width"], (path, too_wide(page))
        page.get_by_role("button", name="Menu").click()
        assert scroll_width(page) <= PHONE["width"], (path, "menu open", too_wide(page))
        page.locator(".switcher summary").click()
        expect(page.locator(".switcher").get_by_role("link", name="H" * 120)).to_be_visible()
        assert scroll_width(page) <= PHONE["width"], (path, "switcher open", too_wide(page))
    expect(page.get_by_text(HTML).first).to_be_visible()  # shown as text, not as markup
    assert dialogs == []


def test_on_a_desktop_the_longest_congregation_name_keeps_the_navigation_one_line(
    page: Page, sign_in: Any, live_server: Any, hostile: tuple[Congregation, int]
) -> None:
    congregation, _ = hostile
    congregation.refresh_from_db()
    page.set_viewport_size(DESKTOP)
    sign_in("fern@example.net", PASSWORD)
    page.goto(f"{live_server.url}/c/{congregation.slug}/members/")
    nav = page.get_by_role("navigation", name="Main")
    items = [
        nav.get_by_role("link", name="Microsolidarity", exact=True),
        nav.get_by_role("link", name="History", exact=True),
        nav.get_by_role("button", name="Sign out"),
    ]
    middles = [middle(item) for item in items]
    assert max(middles) - min(middles) < 4, middles
    assert scroll_width(page) <= DESKTOP["width"], too_wide(page)
    nav.locator(".switcher summary").click()
    expect(nav.get_by_role("link", name="H" * 120)).to_be_visible()
    assert scroll_width(page) <= DESKTOP["width"], too_wide(page)
