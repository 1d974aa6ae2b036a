"""The profile lists where a Self is signed in, and signs out everywhere else."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from congregations.account_selectors import describe_device
from tests.pages import text

from ..factories import PASSWORD, SelfFactory

pytestmark = pytest.mark.django_db

PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari"
LAPTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def signed_in(user_agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=user_agent)
    response = client.post("/accounts/login/", {"login": "ana@example.net", "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_the_profile_lists_each_device_and_signs_out_the_others() -> None:
    SelfFactory.create(email="ana@example.net")
    phone, laptop = signed_in(PHONE), signed_in(LAPTOP)

    page = " ".join(text(laptop.get("/profile/")).split())
    assert "Chrome on Android" in page
    assert 'Firefox on Linux <span class="badge">this device</span>' in page

    laptop.post("/accounts/sessions/")

    assert phone.get("/profile/").status_code == 302  # signed out: sent to sign in
    page = " ".join(text(laptop.get("/profile/")).split())
    assert "Chrome on Android" not in page
    assert "Sign out everywhere else" not in page


def test_signing_out_ends_the_session_it_lists() -> None:
    SelfFactory.create(email="ana@example.net")
    phone, laptop = signed_in(PHONE), signed_in(LAPTOP)

    phone.post("/accounts/logout/")

    assert "Chrome on Android" not in text(laptop.get("/profile/"))


@pytest.mark.parametrize(
    ("agent", "device"),
    [
        (PHONE, "Chrome on Android"),
        (LAPTOP, "Firefox on Linux"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1", "Safari on iPhone"),
        ("Mozilla/5.0 (Windows NT 10.0) Chrome/126.0 Safari/537.36 Edg/126.0", "Edge on Windows"),
        ("", "A browser"),
    ],
)
def test_a_device_is_named_as_its_owner_would(agent: str, device: str) -> None:
    assert describe_device(agent) == device


def test_a_page_asks_the_database_nothing_to_know_who_is_signed_in() -> None:
    """Sessions are read from the cache (Redis when hosted), written through to the
    database; signing out everywhere else still ends the others at once."""
    SelfFactory.create(email="ana@example.net")
    phone, laptop = signed_in(PHONE), signed_in(LAPTOP)

    with CaptureQueriesContext(connection) as queries:
        assert phone.get("/notifications/").status_code == 200
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]

    laptop.post("/accounts/sessions/")
    assert phone.get("/profile/").status_code == 302
