"""Signing in without a password, as a person on a phone would."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from ..factories import CongregationFactory, MembershipFactory, SelfFactory

pytestmark = pytest.mark.django_db(transaction=True)


def emailed_code() -> str:
    (message,) = mail.outbox
    found = re.search(r"^([0-9]{6})$", str(message.body), re.MULTILINE)
    assert found, message.body
    return found.group(1)


def test_a_member_signs_in_with_a_code_sent_by_email(page: Page, live_server: Any) -> None:
    ana = SelfFactory.create(email="ana@example.net", display_name="Ana")
    ana.set_unusable_password()  # never chose one
    ana.save()
    MembershipFactory.create(member=ana, congregation=CongregationFactory.create(name="Kotahi"))

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Email me a code").click()
    page.get_by_label("Email").fill("ana@example.net")
    page.get_by_role("button", name="Send me the code").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code").fill(emailed_code())
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_role("heading", name="Welcome, Ana")).to_be_visible()
    expect(page.get_by_role("link", name="Kotahi")).to_be_visible()


def test_a_wrong_code_is_refused_and_the_code_works_once(page: Page, live_server: Any) -> None:
    SelfFactory.create(email="ana@example.net", display_name="Ana")

    page.goto(f"{live_server.url}/accounts/login/code/")
    page.get_by_label("Email").fill("ana@example.net")
    page.get_by_role("button", name="Send me the code").click()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_text("Incorrect code.")).to_be_visible()
