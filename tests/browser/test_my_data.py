"""Download my data as a person does it, in Chromium: the profile's button, the email's
link, the file the browser saves; and the privacy page, from the footer."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from congregations.services.outbox import send_due_emails
from privacy.services.downloads import prepare_due_archives

from ..factories import PASSWORD, CongregationFactory, MembershipFactory, SelfFactory
from .test_layout import assert_passes_axe

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_member_downloads_their_data_from_the_emailed_link_once(
    page: Page, sign_in: Any, live_server: Any, tmp_path: Path
) -> None:
    ana = SelfFactory.create(email="ana@example.net", display_name="Ana")
    MembershipFactory.create(member=ana, congregation=CongregationFactory.create(name="Kotahi"))
    sign_in("ana@example.net", PASSWORD)
    page.goto(f"{live_server.url}/profile/")

    page.get_by_role("button", name="Download my data").click()

    expect(page.get_by_text("We are preparing your data").first).to_be_visible()
    expect(page.get_by_role("button", name="Download my data")).to_have_count(0)
    assert_passes_axe(page)
    # What the worker does: build the archive, send the outbox.
    assert prepare_due_archives() == 1
    send_due_emails()
    (message,) = mail.outbox
    (link,) = re.findall(r"http\S+/privacy/my-data/\S+/", str(message.body))
    path = link.split("/privacy/", 1)[1]

    with page.expect_download() as download:
        page.evaluate("url => { window.location.href = url }", f"{live_server.url}/privacy/{path}")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert json.loads(archive.read("profile.json"))["display_name"] == "Ana"
        assert json.loads(archive.read("congregations.json"))[0]["congregation"] == "Kotahi"

    again = page.goto(f"{live_server.url}/privacy/{path}")
    assert again is not None and again.status == 404


def test_the_privacy_page_is_a_click_away_from_any_page_and_passes_axe(
    page: Page, live_server: Any
) -> None:
    page.goto(f"{live_server.url}/accounts/login/")

    page.get_by_role("contentinfo").get_by_role("link", name="Privacy").click()

    expect(page.get_by_role("heading", name="Privacy", level=1)).to_be_visible()
    expect(page.get_by_text("30 days after it lapsed")).to_be_visible()
    assert_passes_axe(page)
