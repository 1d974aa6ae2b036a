"""Accessibility held by the suite, in each language the app speaks: every main page passes
axe-core with no violation and names its language in <html lang>, whichever of English,
Spanish or German the browser asks for; the switcher at the foot of the page changes it;
and a crew member schedules, taps and logs a meeting with the keyboard alone, seeing where
the focus is at every step.

The pages are found by their addresses and the forms by their fields' names, never by
their words: the Spanish and German pages read differently once translated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from congregations.models import Congregation, Role, Self
from congregations.services import invite, update_settings
from congregations.tenancy import tenant
from crews.models import Crew, Meeting, MeetingStatus
from crews.services import form_crew, propose_crew

from ..builders import (
    HOUR,
    conflict,
    held_meeting,
    money_round,
    next_july,
    scheduled_meeting,
    venture,
)
from ..factories import PASSWORD, CongregationFactory, MembershipFactory, SelfFactory

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = ("en", "es", "de")


@dataclass
class Kotahi:
    """A congregation with something on every page: Ana, its facilitator, in a crew that
    met (a money round recorded), has a meeting to log now and a conflict open; a venture
    she co-owns; a crew she is asked to join (waiting for her, and a notification); and an
    invitation link for someone new."""

    congregation: Congregation
    ana: Self
    crew: Crew
    held: Meeting
    to_log: Meeting
    conflict_pk: int
    venture_pk: int
    token: str


def kotahi() -> Kotahi:
    now = timezone.now()
    congregation = CongregationFactory.create(name="Kotahi")
    ana = SelfFactory.create(email="ana@example.net", display_name="Ana")
    MembershipFactory.create(member=ana, congregation=congregation, role=Role.FACILITATOR)
    ben, cai, dee = (
        MembershipFactory.create(congregation=congregation, member__display_name=name).member
        for name in ("Ben", "Cai", "Dee")
    )
    crew = form_crew(
        congregation=congregation,
        name="Tuesday crew",
        members=[ana, ben, cai],
        now=now - timedelta(days=30),
    )
    held = held_meeting(crew, now=now - timedelta(days=3))
    money_round(held, focus=ben, offerer=ana)
    to_log = scheduled_meeting(crew, now - HOUR, by=ana, place="Ana's kitchen")
    opened = conflict(crew, ana, ben)
    shared = venture(congregation, ana, cai)
    propose_crew(congregation=congregation, name="Oak", proposed_by=dee, invitees=[ana, ben])
    update_settings(congregation=congregation, changed_by=ana, invitation_quota=7)
    _, token = invite(
        congregation=congregation,
        email="eve@example.net",
        invited_by=ana,
        note="Come and meet the others.",
        send_email=False,
    )
    return Kotahi(congregation, ana, crew, held, to_log, opened.pk, shared.pk, token)


def assert_passes_axe(page: Page, where: str) -> None:
    violations = Axe().run(page).response["violations"]
    assert violations == [], (where, [(v["id"], v["nodes"][0]["html"]) for v in violations])


def assert_reads_in(page: Page, language: str, where: str) -> None:
    assert page.evaluate("document.documentElement.lang") == language, where
    assert_passes_axe(page, where)


def sign_in_by_fields(page: Page, base: str, email: str) -> None:
    """Signing in by the fields' names, whatever language their labels are in."""
    page.goto(f"{base}/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page.locator("form[action$='/accounts/logout/']")).to_have_count(1)


@pytest.mark.parametrize(
    "language",
    [
        pytest.param(code, id=code, marks=pytest.mark.browser_context_args(locale=code))
        for code in LANGUAGES
    ],
)
def test_every_main_page_passes_axe_in_the_language_the_browser_asks_for(
    page: Page, live_server: Any, language: str
) -> None:
    data = kotahi()
    base = live_server.url
    home = f"{base}/c/{data.congregation.slug}"
    crew, held = data.crew.pk, data.held.pk

    # Anonymous: the browser's Accept-Language decides.
    for path in ("/accounts/login/", f"/invitations/{data.token}/"):
        page.goto(f"{base}{path}")
        assert_reads_in(page, language, path)

    # Signed in, with no language chosen: still the browser's.
    sign_in_by_fields(page, base, "ana@example.net")
    data.ana.refresh_from_db()
    assert data.ana.language == ""
    assert data.ana.email_language == language
    pages = [
        f"{home}/",  # with the invitation to Oak waiting
        f"{home}/people/",
        f"{home}/members/",
        f"{home}/history/",
        f"{home}/crews/{crew}/",
        f"{home}/meetings/{data.to_log.pk}/",  # with the taps
        f"{home}/meetings/{held}/",
        f"{home}/meetings/{held}/rounds/",
        f"{home}/conflicts/",
        f"{home}/conflicts/{data.conflict_pk}/",
        f"{home}/ventures/",
        f"{home}/ventures/{data.venture_pk}/",
        f"{home}/crews/{crew}/scores/",
        f"{home}/crews/{crew}/entries/",
        f"{home}/me/",
        f"{base}/profile/",
        f"{base}/notifications/",
        f"{base}/privacy/",
    ]
    for url in pages:
        page.goto(url)
        assert_reads_in(page, language, url)
    page.goto(f"{home}/")
    expect(page.locator("#waiting button")).not_to_have_count(0)  # Oak's answers

    # The invitations form with a refused line: an address that is not one.
    page.goto(f"{home}/invitations/")
    page.locator("textarea[name=emails]").fill("fay@example.net\nnot an address")
    page.locator("textarea[name=emails]").locator("xpath=ancestor::form").locator(
        "button[type=submit]"
    ).press("Enter")
    expect(page.locator("ul.report li.refused")).to_have_count(1)
    expect(page.locator("textarea[name=emails]")).to_have_value("not an address")
    assert_reads_in(page, language, "invitations with a refused line")

    # The settings with an error: a cap below the size at which to think of splitting.
    page.goto(f"{home}/settings/")
    page.locator("input[name=hard_size_cap]").fill("2")
    page.locator("input[name=hard_size_cap]").press("Enter")
    expect(page.locator("ul.errorlist").first).to_be_visible()
    assert_reads_in(page, language, "settings with an error")


@pytest.mark.browser_context_args(locale="en-US")
def test_the_switcher_at_the_foot_of_the_page_changes_the_language(
    page: Page, live_server: Any
) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next=/profile/")
    assert page.evaluate("document.documentElement.lang") == "en"

    footer = page.locator("footer.site")
    footer.get_by_label("Language").select_option(label="Deutsch")
    footer.locator("form.language button[type=submit]").click()

    expect(page.locator("html")).to_have_attribute("lang", "de")
    assert page.url == f"{live_server.url}/accounts/login/?next=/profile/"
    expect(footer.locator("select[name=language]")).to_have_value("de")
    assert_passes_axe(page, "the sign-in page after switching")


# --- the keyboard alone -------------------------------------------------------------------

MOST_TABS = 80

FOCUSED = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  return {
    html: element.outerHTML.slice(0, 120),
    outline: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    boxShadow: style.boxShadow,
  };
}"""


def assert_focus_visible(page: Page) -> None:
    """The focused control shows it: an outline of some width, or a ring drawn as a
    box-shadow."""
    focused = page.evaluate(FOCUSED)
    assert focused is not None, "the focus is on nothing"
    outlined = focused["outline"] != "none" and focused["outlineWidth"] > 0
    ringed = focused["boxShadow"] not in ("", "none")
    assert outlined or ringed, f"no visible focus on {focused['html']}"


ROLES = ("link", "button", "textbox", "combobox", "checkbox", "radio", "spinbutton")


def named(page: Page, name: str, roles: tuple[str, ...] = ROLES) -> Locator:
    """The controls with one of ``roles`` whose accessible name is ``name`` (a label's
    colon aside)."""
    exactly = re.compile(rf"^\s*{re.escape(name)}:?\s*$")
    first, *others = (page.get_by_role(role, name=exactly) for role in roles)  # type: ignore[arg-type]
    for other in others:
        first = first.or_(other)
    return first


def tab_to(
    page: Page,
    name: str,
    *,
    role: str | None = None,
    backwards: bool = False,
    most: int = MOST_TABS,
) -> None:
    """Press Tab (Shift+Tab ``backwards``) until the focus is on the control named
    ``name`` (and of ``role``, where a link and a button share a name), the focus
    visible at every stop; fail after ``most`` presses."""
    target = named(page, name, (role,) if role else ROLES)
    for _ in range(most):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        assert_focus_visible(page)
        if target.evaluate_all("(all) => all.includes(document.activeElement)"):
            return
    raise AssertionError(f"{name!r} not reached with {most} presses of Tab")


# In American English whatever the machine's own language: the date field reads m/d/y.
@pytest.mark.browser_context_args(locale="en-US")
def test_a_crew_member_schedules_taps_and_logs_a_meeting_with_the_keyboard_alone(
    page: Page, live_server: Any, sign_in: Any
) -> None:
    data = kotahi()
    sign_in("ana@example.net", PASSWORD)
    home = f"{live_server.url}/c/{data.congregation.slug}"
    page.goto(f"{home}/crews/{data.crew.pk}/")

    # Schedule one: next July, at seven in the evening (the browser writes dates m/d/y).
    july = next_july(timezone.now())
    tab_to(page, "Date")
    page.keyboard.type(july.strftime("%m%d%Y"))
    tab_to(page, "Time")
    page.keyboard.type("0700PM")
    tab_to(page, "Place or call link")
    page.keyboard.type("The community hall")
    tab_to(page, "Schedule")
    page.keyboard.press("Enter")

    expect(page.get_by_text("The meeting is scheduled.")).to_be_visible()
    with tenant(data.crew):
        scheduled = Meeting.objects.get(crew=data.crew, place="The community hall")
    assert scheduled.local_start.date() == july
    assert scheduled.local_start.hour == 19

    # Back to the crew page from the new meeting's, and on to the meeting that started an
    # hour ago, from its list of meetings to log.
    expect(page).to_have_url(f"{home}/meetings/{scheduled.pk}/")
    tab_to(page, "← Tuesday crew")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{home}/crews/{data.crew.pk}/")
    link = page.locator(f"a[href$='/meetings/{data.to_log.pk}/']").first
    tab_to(page, link.inner_text().strip())
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{home}/meetings/{data.to_log.pk}/")

    # Tap who came, Space on one and Enter on the other; the focus stays on the tapped
    # name when it is redrawn, so the next Tab goes on from there.
    tab_to(page, "Ana", role="button")  # not the profile link in the navigation
    page.keyboard.press("Space")
    ana = page.get_by_role("button", name="Ana", exact=True)
    expect(ana).to_have_attribute("aria-pressed", "true")
    expect(ana).to_be_focused()
    assert_focus_visible(page)
    tab_to(page, "Cai", role="button", most=3)
    page.keyboard.press("Enter")
    cai = page.get_by_role("button", name="Cai", exact=True)
    expect(cai).to_have_attribute("aria-pressed", "true")
    expect(cai).to_be_focused()
    # Back to Ben, and on again: Shift+Tab reaches him from Cai.
    tab_to(page, "Ben", role="button", backwards=True, most=3)
    expect(page.get_by_role("button", name="Ben", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )

    tab_to(page, "Where we have been")
    page.keyboard.type("We shared a meal and our worries.")
    tab_to(page, "Log this meeting")
    page.keyboard.press("Enter")

    expect(page.get_by_text("The meeting is logged.")).to_be_visible()
    notes = page.get_by_role("paragraph").filter(has_text="We shared a meal and our worries.")
    expect(notes).to_be_visible()
    with tenant(data.crew):
        logged = Meeting.objects.get(pk=data.to_log.pk)
        present = set(
            logged.attendances.filter(present=True).values_list("member__display_name", flat=True)
        )
    assert logged.status == MeetingStatus.LOGGED
    assert logged.reflections == "We shared a meal and our worries."
    assert present == {"Ana", "Cai"}
