from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page

# Playwright's sync API keeps an event loop running in the test thread; the ORM calls the
# tests make around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """The system's Chromium: Playwright cannot download its own browser here."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture
def sign_in(live_server: Any, page: Any) -> Any:
    def sign_in_as(email: str, password: str) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in", exact=True).click()

    return sign_in_as


def refusals(page: Page) -> list[str]:
    """What the browser refused on ``page`` under the Content-Security-Policy, as it says on
    the console ("Refused to apply inline style …"), from now on."""
    refused: list[str] = []

    def heard(message: ConsoleMessage) -> None:
        if message.text.startswith("Refused to") or "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", heard)
    return refused


@pytest.fixture(autouse=True)
def _no_csp_refusals(page: Page) -> Iterator[None]:
    """Every browser journey runs with the policy refusing nothing: a refusal is a part of
    the page that silently did not work."""
    refused = refusals(page)
    yield
    assert refused == []
