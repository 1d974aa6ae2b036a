"""A congregation may ask its facilitators for a second factor: a facilitator without one is
stopped before any facilitator action, and told why; members are not concerned."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    validate_totp_code,
)
from django.core.exceptions import ValidationError
from django.test import Client

from congregations.models import Congregation, Role, Self
from congregations.services import SETTINGS_FIELDS, update_settings
from tests.builders import congregation_url
from tests.factories import MembershipFactory
from tests.pages import text

pytestmark = pytest.mark.django_db

WHY = "asks each facilitator to confirm it is really them"


def with_second_factor(self_: Self) -> Self:
    TOTP.activate(self_, generate_totp_secret())
    return self_


def ask_for_second_factors(congregation: Congregation, facilitator: Self) -> None:
    update_settings(
        congregation=congregation,
        changed_by=with_second_factor(facilitator),
        facilitators_need_second_factor=True,
    )


def form(congregation: Congregation, **changes: Any) -> dict[str, Any]:
    return {field: getattr(congregation, field) for field in SETTINGS_FIELDS} | changes


def test_a_facilitator_asks_it_from_the_settings_and_the_history_shows_it(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    client.force_login(with_second_factor(facilitator))
    url = congregation_url("settings", congregation)

    response = client.post(url, form(congregation, facilitators_need_second_factor="on"))

    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert re.search(
        r'<input type="checkbox" name="facilitators_need_second_factor"[^>]*checked', page
    )
    history = text(client.get(congregation_url("history", congregation)))
    assert "changed the settings" in history


def test_a_facilitator_without_one_cannot_ask_it_of_the_others(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    client.force_login(facilitator)
    url = congregation_url("settings", congregation)

    response = client.post(url, form(congregation, facilitators_need_second_factor="on"))

    assert response.status_code == 200
    assert "Add a second factor to your own account first" in text(response)
    with pytest.raises(ValidationError):
        update_settings(
            congregation=congregation, changed_by=facilitator, facilitators_need_second_factor=True
        )


@pytest.mark.parametrize(
    ("name", "method", "kwargs"),
    [
        ("settings", "get", {}),
        ("settings", "post", {}),
        ("history", "get", {}),
        ("remove_member", "get", {"pk": 1}),
        ("change_role", "post", {"pk": 1}),
        ("reciprocity:reverse_entry", "post", {"pk": 1}),
    ],
)
def test_a_facilitator_without_one_is_stopped_before_a_facilitator_action(
    client: Client,
    congregation: Congregation,
    facilitator: Self,
    name: str,
    method: str,
    kwargs: dict[str, int],
) -> None:
    ask_for_second_factors(congregation, facilitator)
    newcomer = MembershipFactory.create(congregation=congregation, role=Role.FACILITATOR).member
    client.force_login(newcomer)

    response = getattr(client, method)(congregation_url(name, congregation, **kwargs))

    assert response.status_code == 403
    page = " ".join(text(response).split())
    assert WHY in page
    assert "Add a passkey" in page and "Use an authenticator app" in page


def test_with_a_second_factor_the_facilitator_goes_on(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    ask_for_second_factors(congregation, facilitator)
    client.force_login(facilitator)

    assert client.get(congregation_url("settings", congregation)).status_code == 200


def test_members_pages_do_not_ask_for_it(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    ask_for_second_factors(congregation, facilitator)
    client.force_login(member)

    assert client.get(congregation_url("invitations", congregation)).status_code == 200
    assert client.get(congregation_url("crews:people", congregation)).status_code == 200


def test_an_htmx_action_shows_why_in_place_of_the_page(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    ask_for_second_factors(congregation, facilitator)
    newcomer = MembershipFactory.create(congregation=congregation, role=Role.FACILITATOR).member
    client.force_login(newcomer)

    response = client.post(
        congregation_url("change_role", congregation, pk=1),
        {"role": "member"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200  # htmx swaps no 403
    assert response["HX-Retarget"] == "#main"
    assert WHY in " ".join(text(response).split())


def test_a_code_typed_in_its_last_second_is_still_taken_but_not_an_older_one() -> None:
    """The authenticator app's code of the previous 30 seconds is accepted (it was typed
    as the period turned, or sent over a slow network); the one before it is not."""
    secret = generate_totp_secret()
    period = 59_000_000  # 30 seconds each since 1970: in 2026

    def code(counter: int) -> str:
        return format_hotp_value(hotp_value(secret, counter))

    # The clock stands still, a second into the period.
    with time_machine.travel(period * 30 + 1, tick=False):
        assert validate_totp_code(secret, code(period))
        assert validate_totp_code(secret, code(period - 1))
        assert not validate_totp_code(secret, code(period - 2))
