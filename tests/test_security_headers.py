"""A strict Content-Security-Policy and a Permissions-Policy on every page: each page of the
isolation matrix, as each persona, and the pages outside a congregation."""

from __future__ import annotations

import pytest
from django.test import Client

from congregations.models import Self

from .test_isolation import URLS, World, url_of
from .test_isolation import world as isolation_world

world = isolation_world  # the isolation matrix's fixture, for the same pages

STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def policy(response: object) -> dict[str, str]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    directives = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in directives}


def assert_strict(response: object, what: str) -> None:
    directives = policy(response)
    for name, value in STRICT.items():
        assert directives.get(name) == value, f"{what}: {name} is {directives.get(name)!r}"
    assert "unsafe" not in directives["script-src"], what
    features = response["Permissions-Policy"]  # type: ignore[index]
    assert "camera=()" in features and "geolocation=()" in features, what
    assert "publickey-credentials-get=(self)" in features, what


def is_html(response: object) -> bool:
    return str(response["Content-Type"]).startswith("text/html")  # type: ignore[index]


@pytest.mark.parametrize("name", sorted(URLS))
def test_every_page_of_the_matrix_carries_the_strict_policy(
    client: Client,
    world: World,
    name: str,
) -> None:
    pages = 0
    for persona in ("member", "facilitator", "crew_mate", "outsider"):
        client.force_login(getattr(world, persona))
        response = client.get(url_of(name, world))
        if is_html(response):
            assert_strict(response, f"GET {name} as {persona} ({response.status_code})")
            pages += 1
    assert pages or name.endswith(("_csv", "_xlsx")) or response.status_code == 405, name


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/profile/",
        "/accounts/login/",
        "/accounts/login/code/",
        "/accounts/password/reset/",
        "/accounts/email/",
        "/accounts/2fa/",
        "/accounts/sessions/",
        "/congregations/new/",
        "/invitations/nonsense/",
    ],
)
def test_the_pages_outside_a_congregation_carry_it_too(
    client: Client, member: Self, path: str
) -> None:
    client.force_login(member)
    response = client.get(path)

    assert is_html(response), path
    assert_strict(response, path)


def test_anonymous_pages_carry_it(client: Client, db: None) -> None:
    for path in ("/", "/accounts/login/", "/admin/login/"):
        response = client.get(path, follow=True)
        assert_strict(response, path)
