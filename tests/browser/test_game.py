from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from crews.services import form_crew
from tests.builders import held_meeting

from ..factories import PASSWORD, CongregationFactory, MembershipFactory, SelfFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_crew_member_records_a_money_round_and_sees_the_crews_score_rise(
    page: Page, sign_in: Any, live_server: Any
) -> None:
    congregation = CongregationFactory.create(name="Kotahi")
    ana, ben, cat = (
        SelfFactory.create(email=f"{name.lower()}@example.net", display_name=name)
        for name in ("Ana", "Ben", "Cat")
    )
    for person in (ana, ben, cat):
        MembershipFactory.create(congregation=congregation, member=person)
    crew = form_crew(
        congregation=congregation,
        name="Tuesday crew",
        members=[ana, ben, cat],
        now=timezone.now() - timedelta(days=90),
    )
    meeting = held_meeting(crew)  # a first meeting: +1 each
    scores = page.get_by_role("link", name="The crew’s total: +3 points; see every entry")

    sign_in("ana@example.net", PASSWORD)
    page.goto(f"{live_server.url}/c/kotahi/crews/{crew.pk}/scores/")
    expect(scores).to_be_visible()

    page.goto(f"{live_server.url}/c/kotahi/meetings/{meeting.pk}/rounds/")
    page.evaluate("window.stayed = true")  # gone if the page reloads
    money = page.locator("#money-round")
    money.get_by_role("radio", name="Ben").check()
    money.get_by_label("They asked for something they need").check()
    money.get_by_role("group", name="Ana").get_by_role("checkbox", name="encouragement").check()
    money.get_by_label("We talked and listened with mutual respect and positive regard").check()
    money.get_by_role("button", name="Record the money round").click()

    expect(page.get_by_text("The money round for Ben is recorded.")).to_be_visible()
    recorded = page.locator("#recorded-rounds")
    expect(recorded).to_contain_text("Money round: Ben")
    expect(recorded).to_contain_text("Ana (encouragement)")
    expect(recorded).to_contain_text("Ana +6, Ben +6")
    assert page.evaluate("window.stayed") is True  # htmx swapped the form and the list in place

    page.get_by_role("link", name="The crew’s scores").click()
    expect(
        page.get_by_role("link", name="The crew’s total: +15 points; see every entry")
    ).to_be_visible()
    ana_row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Ana"))
    expect(ana_row).to_contain_text("+6")
    expect(ana_row).to_contain_text("+7")
