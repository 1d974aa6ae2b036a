"""Deleting one's account in a real browser: from the profile, confirmed with the
password (a wrong one first), then signed out on a page saying it is done; each page
passes axe-core."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from congregations.models import Self

from ..factories import PASSWORD, CongregationFactory, MembershipFactory, SelfFactory
from .test_layout import assert_passes_axe

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_member_deletes_their_account_from_the_profile(
    page: Page, live_server: Any, sign_in: Any
) -> None:
    ana = SelfFactory.create(email="ana@example.net", display_name="Ana")
    MembershipFactory.create(member=ana, congregation=CongregationFactory.create(name="Kotahi"))
    sign_in("ana@example.net", PASSWORD)
    expect(page.get_by_role("heading", name="Welcome, Ana")).to_be_visible()

    page.goto(f"{live_server.url}/profile/")
    page.get_by_role("link", name="Delete my account").click()
    expect(page.get_by_role("heading", name="What stays")).to_be_visible()
    assert_passes_axe(page)
    page.get_by_role("button", name="Delete my account").click()

    page.get_by_label("Password").fill("not-my-password")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Incorrect password.")).to_be_visible()
    assert_passes_axe(page)
    ana.refresh_from_db()
    assert ana.anonymised_at is None

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your account is deleted")).to_be_visible()
    assert_passes_axe(page)
    ana.refresh_from_db()
    assert ana.display_name == "Former member"
    assert not Self.objects.filter(email="ana@example.net").exists()

    page.goto(f"{live_server.url}/profile/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/profile/")
