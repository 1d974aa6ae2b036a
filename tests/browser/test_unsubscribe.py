"""An email's unsubscribe link opened in a browser, signed in nowhere: the page says what
will stop, and its button stops it, with no session, no script and no CSRF cookie."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from congregations.models import Ask, EmailOptOut
from congregations.unsubscribe import unsubscribe_url

from ..factories import SelfFactory
from .test_layout import assert_passes_axe

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_link_asks_then_the_button_turns_conflict_emails_off(
    page: Page, live_server: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url
    ana = SelfFactory.create(email="ana@example.net")

    page.goto(unsubscribe_url(ana, Ask.CONFLICT))
    expect(page.get_by_role("heading", name="Stop these emails")).to_be_visible()
    expect(page.get_by_text("No more emails about conflicts to resolve.")).to_be_visible()
    assert_passes_axe(page)
    assert not EmailOptOut.objects.filter(owner=ana).exists()  # opening it stops nothing

    page.context.clear_cookies()  # whatever the GET set, the POST needs none of it
    page.get_by_role("button", name="Stop these emails").click()

    expect(page.get_by_role("heading", name="These emails are off")).to_be_visible()
    assert list(EmailOptOut.objects.filter(owner=ana).values_list("ask", flat=True)) == [
        Ask.CONFLICT
    ]
