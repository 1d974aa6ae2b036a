"""The accounts attacked: what an attacker tried that once worked, kept from working again."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client

from congregations.models import Congregation, Invitation, Role, Self
from congregations.services import invite, update_settings
from congregations.tenancy import across_congregations
from tests.builders import congregation_url
from tests.factories import MembershipFactory
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
