from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ..factories import PASSWORD, CongregationFactory, MembershipFactory, SelfFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_member_signs_in_and_sees_their_congregations(page: Page, sign_in: Any) -> None:
    self_ = SelfFactory(email="ana@example.net", display_name="Ana")
    MembershipFactory(member=self_, congregation=CongregationFactory(name="Kotahi"))

    sign_in("ana@example.net", PASSWORD)

    expect(page.get_by_role("heading", name="Welcome, Ana")).to_be_visible()
    expect(page.get_by_role("link", name="Kotahi")).to_be_visible()


def test_a_wrong_password_is_refused_with_a_message(page: Page, sign_in: Any) -> None:
    SelfFactory(email="ana@example.net")

    sign_in("ana@example.net", "not-the-password")

    expect(page.get_by_text("That email address and password do not match.")).to_be_visible()
