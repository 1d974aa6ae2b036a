"""Every place a password or a code is tried is throttled: after the limit in settings the
right password is refused too, with a calm message saying when to try again, for the
app's sign-in and the admin's; and the count holds across web processes sharing the
cache."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from functools import partial
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client

from congregations.accounts import throttle_message

from ..factories import PASSWORD, SelfFactory
from ..waiting import wait_for

LOGIN = "/accounts/login/"
THROTTLED = throttle_message()


def sign_in(client: Client, email: str, password: str, path: str = LOGIN) -> Any:
    return client.post(path, {"login": email, "password": password})


def fail_until_throttled(client: Client, email: str) -> None:
    for _ in range(settings.LOGIN_FAILURES_ALLOWED):
        response = sign_in(client, email, "a-wrong-guess")
        assert response.status_code == 200
        assert THROTTLED not in response.content.decode()


@pytest.mark.django_db
def test_after_the_allowed_failures_even_the_right_password_is_refused(client: Client) -> None:
    SelfFactory.create(email="ana@example.net")
    fail_until_throttled(client, "ana@example.net")

    response = sign_in(client, "ana@example.net", PASSWORD)

    assert response.status_code == 200
    page = response.content.decode()
    assert THROTTLED in page
    assert f"wait {settings.LOGIN_FAILURES_WINDOW_MINUTES} minutes" in page
    assert "_auth_user_id" not in client.session
    # Only that address: someone else signs in as usual.
    SelfFactory.create(email="ben@example.net")
    assert sign_in(Client(), "ben@example.net", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_admin_signs_in_through_the_same_throttled_form(client: Client) -> None:
    SelfFactory.create(email="op@example.net", is_staff=True, is_superuser=True)

    # The admin's own form tries no password: it sends to the app's sign-in.
    response = client.post("/admin/login/", {"username": "op@example.net", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")
    assert "_auth_user_id" not in client.session

    admin_login = client.get("/admin/login/?next=/admin/")["Location"]
    fail_until_throttled(client, "op@example.net")
    refused = sign_in(client, "op@example.net", PASSWORD, path=admin_login)

    assert THROTTLED in refused.content.decode()
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_the_admin_lets_an_operator_in_after_signing_in(client: Client) -> None:
    SelfFactory.create(email="op@example.net", is_staff=True, is_superuser=True)

    response = sign_in(client, "op@example.net", PASSWORD, path=f"{LOGIN}?next=/admin/")

    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_codes_by_email_are_throttled_per_address(client: Client) -> None:
    SelfFactory.create(email="ana@example.net")
    for _ in range(3):
        Client().post("/accounts/login/code/", {"email": "ana@example.net"})
    assert len(mail.outbox) == 3

    response = client.post("/accounts/login/code/", {"email": "ana@example.net"})

    assert THROTTLED in response.content.decode()
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_password_resets_are_throttled_per_address(client: Client) -> None:
    SelfFactory.create(email="ana@example.net")
    for _ in range(3):
        client.post("/accounts/password/reset/", {"email": "ana@example.net"})

    response = client.post("/accounts/password/reset/", {"email": "ana@example.net"})

    assert response.status_code == 429
    assert "Please wait" in response.content.decode()
    assert len(mail.outbox) == 3


# Two web processes, as when hosted: each its own gunicorn, one Redis cache between them.


GUNICORN = [sys.executable, "-m", "gunicorn", "microsolidarity.wsgi", "--workers", "1"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Browser:
    """Just enough of a browser for a form: cookies and the CSRF token."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, port: int, method: str, path: str, form: dict[str, str] | None = None) -> str:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return f"{response.status} {response.read().decode()}"
        finally:
            connection.close()

    def sign_in(self, port: int, email: str, password: str) -> str:
        page = self.request(port, "GET", LOGIN)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, page
        form = {"login": email, "password": password, "csrfmiddlewaretoken": token.group(1)}
        return self.request(port, "POST", LOGIN, form)


def shared_cache_url() -> str:
    """The suite's Redis (its broker's database) as the web processes' shared cache."""
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis://"):
        pytest.skip("needs Redis")
    return broker.replace("redis://", "rediscache://", 1)


def forget_limits(url: str) -> None:
    client = redis.Redis.from_url(url.replace("rediscache://", "redis://", 1))
    for key in client.scan_iter("*allauth:rl:*"):
        client.delete(key)


@pytest.fixture
def two_web_processes(transactional_db: None) -> Iterator[list[int]]:
    database = connection.settings_dict
    cache_url = shared_cache_url()
    forget_limits(cache_url)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "microsolidarity.settings_test",
        "DEBUG": "true",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}",
        "CACHE_URL": cache_url,
    }
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [*GUNICORN, "--bind", f"127.0.0.1:{port}"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            wait_for(partial(_answers, port), what=f"the web process on port {port}")
        yield ports
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)
        forget_limits(cache_url)


def _answers(port: int) -> bool:
    try:
        return Browser().request(port, "GET", "/healthz").startswith(("200", "503"))
    except OSError:
        return False


def test_the_limit_holds_across_two_web_processes(two_web_processes: list[int]) -> None:
    first, second = two_web_processes
    email = f"ana-{uuid.uuid4().hex[:8]}@example.net"
    SelfFactory.create(email=email)
    browser = Browser()
    for attempt in range(settings.LOGIN_FAILURES_ALLOWED):
        answer = browser.sign_in((first, second)[attempt % 2], email, "a-wrong-guess")
        assert THROTTLED not in answer

    for port in (first, second):
        answer = Browser().sign_in(port, email, PASSWORD)
        assert answer.startswith("200") and THROTTLED in answer, f"port {port}"
    SelfFactory.create(email="ben@example.net")
    assert Browser().sign_in(second, "ben@example.net", PASSWORD).startswith("302")
