"""The accounts attacked: what an attacker tried that once worked, kept from working again."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail
from django.test import Client

from congregations.models import Congregation, Invitation, Role, Self
from congregations.services import invite, update_settings
from congregations.tenancy import across_congregations
from tests.builders import congregation_url
from tests.factories import MembershipFactory, SelfFactory
from tests.pages import text

pytestmark = pytest.mark.django_db

WHY = "asks each facilitator to confirm it is really them"


def a_members_invitation(congregation: Congregation) -> Invitation:
    member = MembershipFactory.create(congregation=congregation).member
    return invite(
        congregation=congregation, email="zed@example.net", invited_by=member, send_email=False
    )[0]


def a_facilitator_without_a_second_factor(congregation: Congregation, facilitator: Self) -> Self:
    """In a congregation that asks its facilitators for one."""
    TOTP.activate(facilitator, generate_totp_secret())
    update_settings(
        congregation=congregation, changed_by=facilitator, facilitators_need_second_factor=True
    )
    return MembershipFactory.create(congregation=congregation, role=Role.FACILITATOR).member


@pytest.mark.parametrize("name", ["revoke_invitation", "resend_invitation"])
def test_a_facilitator_without_one_cannot_handle_a_members_invitation(
    client: Client, congregation: Congregation, facilitator: Self, name: str
) -> None:
    """Handling someone else's invitation is a facilitator's power, though the page is also
    a member's (for their own): it waits for the second factor like any other."""
    invitation = a_members_invitation(congregation)
    client.force_login(a_facilitator_without_a_second_factor(congregation, facilitator))

    response = client.post(congregation_url(name, congregation, pk=invitation.pk))

    assert response.status_code == 403
    assert WHY in " ".join(text(response).split())
    with across_congregations():
        unchanged = Invitation.objects.get(pk=invitation.pk)
    assert (unchanged.revoked_at, unchanged.sent_at) == (invitation.revoked_at, invitation.sent_at)


def test_a_facilitator_without_one_sees_not_everyones_invitations(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    a_members_invitation(congregation)
    client.force_login(a_facilitator_without_a_second_factor(congregation, facilitator))

    response = client.get(congregation_url("invitations", congregation))

    assert response.status_code == 403
    assert "zed@example.net" not in text(response)


def claimed_by_another(address: str) -> Self:
    """Ben, signed in, asks to change his address to ``address``: it waits, unverified."""
    ben = SelfFactory.create(email="ben@example.net")
    client = Client()
    client.force_login(ben)
    client.post("/accounts/email/", {"action_add": "", "email": address})
    assert EmailAddress.objects.filter(user=ben, email=address, verified=False).exists()
    mail.outbox.clear()
    return ben


def test_a_code_for_an_address_another_only_claimed_signs_nobody_into_his_account(
    client: Client,
) -> None:
    """Zed, invited, asks for a sign-in code before accepting. The code must not sign them
    into the account of Ben, who only typed their address into his email change: Ben knows
    his password, and Zed's congregation would be his."""
    ben = claimed_by_another("zed@example.net")

    client.post("/accounts/login/code/", {"email": "zed@example.net"})
    for message in mail.outbox:
        if code := re.search(r"\b(\d{6})\b", str(message.body)):
            client.post("/accounts/login/code/confirm/", {"code": code.group(1)})

    assert client.session.get("_auth_user_id") != str(ben.pk)
    ben.refresh_from_db()
    assert ben.email == "ben@example.net"
    assert not EmailAddress.objects.filter(user=ben, email="zed@example.net", verified=True)


def test_a_password_reset_for_an_address_another_only_claimed_resets_nobody(
    client: Client,
) -> None:
    claimed_by_another("zed@example.net")

    client.post("/accounts/password/reset/", {"email": "zed@example.net"})

    assert not any("/accounts/password/reset/key/" in str(m.body) for m in mail.outbox)


@pytest.mark.parametrize("from_before_allauth", [False, True])
def test_the_owner_of_an_address_still_gets_their_code_and_their_reset(
    client: Client, from_before_allauth: bool
) -> None:
    ana = SelfFactory.create(email="ana@example.net", email_address=not from_before_allauth)
    claimed_by_another("ana@example.net")

    client.post("/accounts/login/code/", {"email": "ana@example.net"})
    code = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert code
    client.post("/accounts/login/code/confirm/", {"code": code.group(1)})
    assert client.session.get("_auth_user_id") == str(ana.pk)

    Client().post("/accounts/password/reset/", {"email": "ana@example.net"})
    assert "/accounts/password/reset/key/" in str(mail.outbox[-1].body)
    assert mail.outbox[-1].to == ["ana@example.net"]
