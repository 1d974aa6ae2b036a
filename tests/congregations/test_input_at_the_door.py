"""Bad input is refused where it comes in, with the limits the columns and emails have:
one-line names, one length per value, and invitation addresses as people paste them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils.html import escape

from congregations.models import (
    CONGREGATION_NAME_LENGTH,
    DISPLAY_NAME_LENGTH,
    NOTE_LENGTH,
    WORK_LENGTH,
    Congregation,
    Invitation,
    Self,
)
from congregations.request_keys import new_request_key
from congregations.services import (
    create_congregation,
    invite,
    sign_up_with_invitation,
    update_profile,
    update_settings,
)
from congregations.services.outbox import send_due_emails
from congregations.tenancy import tenant
from congregations.validators import single_line
from microsolidarity.models import ItemFailure
from tests.builders import congregation_url, refused, snapshot
from tests.pages import text

pytestmark = pytest.mark.django_db

ONE_LINE = "Keep this on one line, without line breaks, tabs or other control characters."
# What a member could paste to put a header of their own into an email built from it.
HEADER_INJECTION = "Evil\nBcc: x@example.org"
PASSWORDS = {"password1": "a-good-long-password", "password2": "a-good-long-password"}
# Django's validate_email takes up to 320 characters; the column takes 254.
LONG_ADDRESS = "a" * 260 + "@example.org"

Capture = Callable[..., AbstractContextManager[Any]]


@pytest.mark.parametrize(
    "broken",
    [
        "line\nbreak",
        "carriage\rreturn",
        "a\ttab",
        "nul\x00",
        "escape\x1b[31m",
        "delete\x7f",
        "next line\x85",
        "line\u2028separator",
        "paragraph\u2029separator",
    ],
)
def test_single_line_refuses_every_control_character(broken: str) -> None:
    with pytest.raises(ValidationError, match=ONE_LINE):
        single_line(broken)


@pytest.mark.parametrize("fine", ["Ana O'Neill", "Zoë & Jo — the “Tuesday” crew", "水曜日 🌱", ""])
def test_single_line_takes_ordinary_text(fine: str) -> None:
    single_line(fine)


# Congregation names


def test_a_congregation_named_with_a_line_break_is_refused_next_to_the_name(
    client: Client, outsider: Self
) -> None:
    client.force_login(outsider)
    before = snapshot()

    response = client.post("/congregations/new/", {"name": HEADER_INJECTION, "purpose": "x"})

    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [ONE_LINE]
    assert snapshot() == before


def test_create_congregation_refuses_a_name_with_a_line_break(outsider: Self) -> None:
    with refused(ONE_LINE):
        create_congregation(name=HEADER_INJECTION, facilitator=outsider)


def test_create_congregation_refuses_an_over_long_name(outsider: Self) -> None:
    with refused(f"at most {CONGREGATION_NAME_LENGTH} characters"):
        create_congregation(name="n" * (CONGREGATION_NAME_LENGTH + 1), facilitator=outsider)


def test_update_settings_refuses_a_name_with_a_tab(
    congregation: Congregation, facilitator: Self
) -> None:
    with refused(ONE_LINE):
        update_settings(congregation=congregation, changed_by=facilitator, name="Kotahi\tTwo")


# PostgreSQL refuses a NUL in any text: a purpose holding one was a DataError, not a refusal.
NO_NUL = "Null characters are not allowed."


def test_create_congregation_refuses_a_purpose_with_a_nul(outsider: Self) -> None:
    with refused(NO_NUL):
        create_congregation(name="Kotahi", purpose="Food\x00together", facilitator=outsider)


def test_update_settings_refuses_a_purpose_with_a_nul(
    congregation: Congregation, facilitator: Self
) -> None:
    with refused(NO_NUL):
        update_settings(congregation=congregation, changed_by=facilitator, purpose="Food\x00")


def test_the_settings_page_refuses_an_over_long_name_next_to_it(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    client.force_login(facilitator)
    settings = {
        field: getattr(congregation, field)
        for field in ("purpose", "invitation_quota", "soft_size_threshold", "hard_size_cap")
    } | {
        "invitation_lifetime_days": 14,
        "meeting_grace_hours": 48,
        "conflict_deadline_days": 30,
        "reminder_lead_hours": 24,
    }
    before = snapshot()

    response = client.post(
        congregation_url("settings", congregation),
        settings | {"name": "n" * (CONGREGATION_NAME_LENGTH + 1)},
    )

    assert response.status_code == 200
    (error,) = response.context["form"].errors["name"]
    assert f"at most {CONGREGATION_NAME_LENGTH} characters" in error
    assert snapshot() == before


# A Self's display name and profile


def test_the_profile_refuses_a_display_name_with_a_line_break_next_to_it(
    client: Client, member: Self
) -> None:
    client.force_login(member)
    before = snapshot()

    response = client.post(
        "/profile/",
        {"display_name": HEADER_INJECTION, "timezone": "UTC", "reminders_enabled": "on"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["display_name"] == [ONE_LINE]
    assert snapshot() == before


def test_update_profile_refuses_a_display_name_with_a_line_break(member: Self) -> None:
    name = member.display_name

    with refused(ONE_LINE):
        update_profile(self_=member, display_name=HEADER_INJECTION)

    assert member.display_name == name


@pytest.mark.parametrize(
    ("field", "length"),
    [("display_name", DISPLAY_NAME_LENGTH), ("paid_work", WORK_LENGTH)],
)
def test_update_profile_refuses_over_long_values(member: Self, field: str, length: int) -> None:
    with refused(f"at most {length} characters"):
        update_profile(self_=member, **{field: "w" * (length + 1)})


def test_the_profile_refuses_over_long_work_next_to_it(client: Client, member: Self) -> None:
    client.force_login(member)
    before = snapshot()

    response = client.post(
        "/profile/",
        {"display_name": "Ana", "timezone": "UTC", "meaningful_work": "w" * (WORK_LENGTH + 1)},
    )

    assert response.status_code == 200
    (error,) = response.context["form"].errors["meaningful_work"]
    assert f"at most {WORK_LENGTH} characters" in error
    assert snapshot() == before


def test_sign_up_refuses_a_display_name_with_a_line_break_next_to_it(
    client: Client, token: str
) -> None:
    before = snapshot()

    response = client.post(
        f"/invitations/{token}/", {"display_name": HEADER_INJECTION, **PASSWORDS}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["display_name"] == [ONE_LINE]
    assert snapshot() == before


def test_sign_up_with_invitation_refuses_a_display_name_with_a_line_break(token: str) -> None:
    with refused(ONE_LINE):
        sign_up_with_invitation(
            token=token, display_name="Ben\r\nBcc: x@example.org", password="a-long-password"
        )


# Invitations


@pytest.fixture
def send(client: Client, congregation: Congregation, django_capture_on_commit_callbacks: Capture):
    def send_batch(emails: str, note: str = "") -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                congregation_url("invitations", congregation),
                {"emails": emails, "note": note, "request_key": new_request_key(congregation)},
                follow=True,  # to the fresh form, once every address went out
            )
        assert response.status_code == 200
        return response

    return send_batch


def invited(congregation: Congregation) -> set[str]:
    with tenant(congregation):
        invitations = Invitation.objects.filter(congregation=congregation)
        return set(invitations.values_list("email", flat=True))


def test_an_address_too_long_for_the_column_is_refused_on_its_own_line_and_stays_in_the_box(
    client: Client, congregation: Congregation, facilitator: Self, send: Any
) -> None:
    client.force_login(facilitator)

    response = send(
        f"ana@example.net\n{LONG_ADDRESS}\nben@example.net", note="We meet on Thursdays."
    )

    page = response.content.decode()
    assert invited(congregation) == {"ana@example.net", "ben@example.net"}
    assert "Invited ana@example.net" in page
    assert "Invited ben@example.net" in page
    assert (
        f"Not sent to {LONG_ADDRESS}: An email address has at most 254 characters, not 272."
    ) in page
    form = response.context["form"]
    assert form["emails"].value() == LONG_ADDRESS
    assert form["note"].value() == "We meet on Thursdays."


def test_only_the_refused_lines_stay_in_the_box(
    client: Client, congregation: Congregation, facilitator: Self, member: Self, send: Any
) -> None:
    client.force_login(facilitator)

    response = send(f"ana@example.net, not an address\n{member.email}\nben@example.net")

    assert invited(congregation) == {"ana@example.net", "ben@example.net"}
    assert response.context["form"]["emails"].value() == f"not an address\n{member.email}"
    assert escape("Not sent to not an address: “not an address” is not an email address.") in (
        response.content.decode()
    )


def test_when_every_address_went_out_the_next_batch_starts_empty(
    client: Client, congregation: Congregation, facilitator: Self, send: Any
) -> None:
    client.force_login(facilitator)

    response = send("ana@example.net", note="Hello")

    assert response.context["form"]["emails"].value() is None
    assert response.context["form"]["note"].value() is None


def test_a_sent_batch_redirects_and_reloading_its_page_sends_nothing_again(
    client: Client,
    congregation: Congregation,
    facilitator: Self,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(facilitator)
    url = congregation_url("invitations", congregation)
    data = {"emails": "ana@example.net", "request_key": new_request_key(congregation)}

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert (response.status_code, response["Location"]) == (302, url)
    page = text(client.get(url))
    assert "Invited ana@example.net: the email with the link is on its way." in page
    with django_capture_on_commit_callbacks(execute=True):
        reloaded = text(client.get(url))
        again = client.post(url, data)  # the browser's "send the form again"
    send_due_emails()

    assert "Invited ana@example.net" not in reloaded  # said once, where it was sent
    assert again.status_code == 302
    assert invited(congregation) == {"ana@example.net"}
    assert [message.to for message in mail.outbox] == [["ana@example.net"]]


def test_addresses_pasted_from_a_mail_program_are_invited(
    client: Client, congregation: Congregation, facilitator: Self, send: Any
) -> None:
    client.force_login(facilitator)

    send('Alice Doe <alice.doe@example.org>\n"Doe, Alice" <alice2@example.org>')

    assert invited(congregation) == {"alice.doe@example.org", "alice2@example.org"}
    with tenant(congregation):
        assert Invitation.objects.filter(congregation=congregation).count() == 2


def test_a_line_of_several_pasted_addresses_invites_each(
    client: Client, congregation: Congregation, facilitator: Self, send: Any
) -> None:
    client.force_login(facilitator)

    send('Ana <ana@example.net>; "Oh; Ben" <ben@example.net>, cy@example.net;')

    assert invited(congregation) == {"ana@example.net", "ben@example.net", "cy@example.net"}


def test_invite_refuses_an_address_longer_than_the_column(
    congregation: Congregation, facilitator: Self
) -> None:
    with refused("An email address has at most 254 characters"):
        invite(congregation=congregation, email=LONG_ADDRESS, invited_by=facilitator)


def test_invite_refuses_an_over_long_note(congregation: Congregation, facilitator: Self) -> None:
    with refused(f"at most {NOTE_LENGTH} characters"):
        invite(
            congregation=congregation,
            email="ana@example.net",
            invited_by=facilitator,
            note="n" * (NOTE_LENGTH + 1),
        )


# Domains validate_email takes that the mail's IDNA encoding refuses: a right-to-left mark,
# a right-to-left letter between left-to-right ones, a noncharacter.
UNDELIVERABLE = ["x@exa\u202emple.org", "x@exa\u200fmple.org", "x@a\u0627b.org", "x@a\uffffb.org"]


@pytest.mark.parametrize("address", UNDELIVERABLE)
def test_invite_refuses_an_address_no_email_can_be_sent_to(
    congregation: Congregation, facilitator: Self, address: str
) -> None:
    with refused(f"“{address}” is not an email address."):
        invite(congregation=congregation, email=address, invited_by=facilitator)


def test_an_undeliverable_address_among_good_ones_fails_alone_at_the_door_not_in_the_outbox(
    client: Client, congregation: Congregation, facilitator: Self, send: Any
) -> None:
    """It used to be invited, then fail in the outbox five times before the page said so."""
    client.force_login(facilitator)

    response = send("ana@example.net\nx@a\u0627b.org\nben@example.net")
    send_due_emails()

    assert invited(congregation) == {"ana@example.net", "ben@example.net"}
    assert "Not sent to x@a\u0627b.org: “x@a\u0627b.org” is not an email address." in text(response)
    assert sorted(message.to[0] for message in mail.outbox) == [
        "ana@example.net",
        "ben@example.net",
    ]
    assert not ItemFailure.objects.exists()
