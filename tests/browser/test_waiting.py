"""What waits for a member, as they see it in a browser: answered in place on the home
page, and the unread count in the navigation follows without a reload; and the pages of
this feature pass axe-core's accessibility checks."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Page, expect

from congregations.models import Congregation, Role
from congregations.tenancy import tenant
from crews.services import propose_crew
from reciprocity.models import LedgerEntry
from reciprocity.rules import Rule
from reciprocity.services import dispute_deduction, settle_missed_meetings

from ..builders import GRACE, held_meeting
from ..factories import PASSWORD, CongregationFactory, MembershipFactory, SelfFactory

pytestmark = pytest.mark.django_db(transaction=True)


def people(congregation: Congregation, *names: str) -> list[Any]:
    found = []
    for name in names:
        person = SelfFactory.create(email=f"{name.lower()}@example.net", display_name=name)
        MembershipFactory.create(member=person, congregation=congregation)
        found.append(person)
    return found


def test_a_member_accepts_a_crew_invitation_on_the_home_page_and_the_count_follows(
    page: Page, sign_in: Any, live_server: Any
) -> None:
    congregation = CongregationFactory.create(name="Kotahi")
    ana, ben, cai = people(congregation, "Ana", "Ben", "Cai")
    propose_crew(congregation=congregation, name="Oak", proposed_by=ana, invitees=[ben, cai])

    sign_in("ben@example.net", PASSWORD)
    page.goto(f"{live_server.url}/c/{congregation.slug}/")
    waiting = page.locator("#waiting")
    expect(waiting.get_by_role("link", name="Ana invites you to the crew Oak.")).to_be_visible()
    unread = page.locator("#unread")
    expect(unread).to_have_text("1 unread")
    page.evaluate("window.stillHere = true")  # gone if the page reloads

    waiting.get_by_role("button", name="Join Oak").click()

    expect(waiting.get_by_text("Welcome to Oak.")).to_be_visible()
    expect(waiting.get_by_text("Nothing is waiting for you.")).to_be_visible()
    expect(unread).to_have_text("")
    assert page.evaluate("window.stillHere") is True


def test_the_pages_of_what_waits_pass_axe(page: Page, sign_in: Any, live_server: Any) -> None:
    congregation = CongregationFactory.create(name="Kotahi")
    ben, cai = people(congregation, "Ben", "Cai")
    ana = SelfFactory.create(email="ana@example.net", display_name="Ana")
    MembershipFactory.create(member=ana, congregation=congregation, role=Role.FACILITATOR)
    MembershipFactory.create(member=ana, congregation=CongregationFactory.create(name="Harbour"))
    propose_crew(congregation=congregation, name="Oak", proposed_by=ben, invitees=[ana, cai])
    propose_crew(congregation=congregation, name="Elm", proposed_by=cai, invitees=[ana])

    sign_in("ana@example.net", PASSWORD)
    axe = Axe()
    home = f"/c/{congregation.slug}/"
    for path in ("/", home, f"{home}invitations/", "/notifications/", "/profile/"):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("#unread")).to_have_text("2 unread")
        violations = axe.run(page).response["violations"]
        assert violations == [], (path, [(v["id"], v["nodes"][0]["html"]) for v in violations])


def test_the_dispute_pages_pass_axe(
    page: Page, sign_in: Any, live_server: Any, crew: Any, member: Any, crew_mate: Any, third: Any
) -> None:
    meeting = held_meeting(crew, [crew_mate, third], timezone.now() - GRACE)
    settle_missed_meetings(now=timezone.now())
    with tenant(crew):
        deduction = LedgerEntry.objects.get(meeting=meeting, member=member, rule=Rule.MISSED)
    dispute = dispute_deduction(entry=deduction, disputed_by=member)
    slug = crew.congregation.slug

    axe = Axe()
    for who, path in (
        (member, f"/c/{slug}/me/"),
        (member, f"/c/{slug}/entries/{deduction.pk}/"),
        (crew_mate, f"/c/{slug}/disputes/{dispute.pk}/"),
    ):
        page.context.clear_cookies()
        sign_in(who.email, PASSWORD)
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        violations = axe.run(page).response["violations"]
        assert violations == [], (path, [(v["id"], v["nodes"][0]["html"]) for v in violations])
