"""The invitations page: batches, the report, quota and cap, resend and revoke, and emails
whose links work."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from congregations.models import Congregation, Invitation, Membership, Self
from congregations.request_keys import new_request_key
from congregations.services import invite
from congregations.services.outbox import send_due_emails
from congregations.tenancy import tenant
from tests.builders import congregation_url, membership_of
from tests.pages import text

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[Any]]


@pytest.fixture
def send(client: Client, congregation: Congregation, django_capture_on_commit_callbacks: Capture):
    """POST a batch the way the form does; then the outbox's job sends what it queued."""

    def send_batch(emails: str, note: str = "") -> str:
        data = {"emails": emails, "note": note, "request_key": new_request_key(congregation)}
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(congregation_url("invitations", congregation), data, follow=True)
        assert response.status_code == 200
        send_due_emails()
        return response.content.decode()

    return send_batch


def link_in(message: mail.EmailMessage) -> str:
    found = re.search(r"http://\S+/invitations/\S+/", str(message.body))
    assert found, message.body
    return found.group(0)


def test_a_batch_reports_line_by_line_and_the_valid_addresses_still_go_out(
    client: Client, congregation: Congregation, facilitator: Self, member: Self, send: Any
) -> None:
    invite(
        congregation=congregation,
        email="pending@example.net",
        invited_by=facilitator,
        send_email=False,
    )
    client.force_login(facilitator)

    page = send(
        f"ana@example.net\n\nnot an address\n{member.email}\npending@example.net\nben@example.net",
        note="We meet on Thursdays.",
    )

    assert "Invited ana@example.net" in page
    assert "Invited ben@example.net" in page
    assert "Not sent to not an address: “not an address” is not an email address." in page
    assert f"Not sent to {member.email}: {member.email} is already a member." in page
    assert "Not sent to pending@example.net: pending@example.net has been invited already" in page
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.net", "ben@example.net"]
    assert all("We meet on Thursdays." in str(m.body) for m in mail.outbox)
    with tenant(congregation):
        assert Invitation.objects.filter(congregation=congregation).count() == 3


def test_the_emailed_link_works(
    client: Client, congregation: Congregation, facilitator: Self, send: Any
) -> None:
    client.force_login(facilitator)
    send("ana@example.net")
    (message,) = mail.outbox
    assert message.subject == f"{facilitator.display_name} invites you to Kotahi"
    client.logout()

    url = link_in(message)
    page = client.get(url)
    assert page.status_code == 200
    assert f"{facilitator.display_name} invites you to Kotahi" in text(page)

    joined = client.post(
        url,
        {
            "request_key": page.context["form"]["request_key"].value(),
            "display_name": "Ana",
            "password1": "a-good-long-password",
            "password2": "a-good-long-password",
        },
    )

    assert joined.status_code == 302
    assert joined["Location"] == congregation_url("reciprocity:welcome", congregation)
    ana = Self.objects.get(email="ana@example.net")
    assert membership_of(ana, congregation).role == "member"
    assert client.get(congregation_url("members", congregation)).status_code == 200


def test_an_empty_batch_is_refused_next_to_the_field(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    client.force_login(facilitator)

    response = client.post(congregation_url("invitations", congregation), {"emails": " \n \n"})

    assert response.status_code == 200
    assert response.context["form"].errors["emails"] == ["Write at least one email address."]
    with tenant(congregation):
        assert not Invitation.objects.exists()


def test_members_see_their_invitations_left_and_only_their_own(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    invite(congregation=congregation, email="theirs@example.net", invited_by=facilitator)
    invite(congregation=congregation, email="mine@example.net", invited_by=member)
    client.force_login(member)

    page = client.get(congregation_url("invitations", congregation)).content.decode()

    assert "You can invite one more person (each member can invite 2)." in " ".join(page.split())
    assert "mine@example.net" in page
    assert "theirs@example.net" not in page


def test_facilitators_see_every_invitation_and_who_sent_it(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    invite(congregation=congregation, email="mine@example.net", invited_by=facilitator)
    invite(congregation=congregation, email="theirs@example.net", invited_by=member)
    client.force_login(facilitator)

    page = text(client.get(congregation_url("invitations", congregation)))

    assert "mine@example.net" in page and "theirs@example.net" in page
    assert f"by {member.display_name}" in page
    assert "invitations left" not in page


def test_a_member_past_the_quota_is_told_why(
    client: Client, congregation: Congregation, member: Self, send: Any
) -> None:
    client.force_login(member)

    page = send("a@example.net\nb@example.net\nc@example.net")

    assert "Invited a@example.net" in page and "Invited b@example.net" in page
    assert "Not sent to c@example.net: You have used all 2 of your invitations." in page
    assert len(mail.outbox) == 2
    assert "A facilitator can invite more people." in page
    assert 'name="emails"' not in page  # nothing left to send with


def test_the_hard_cap_refuses_with_a_message_that_says_why(
    client: Client, congregation: Congregation, facilitator: Self, member: Self, send: Any
) -> None:
    congregation.hard_size_cap, congregation.soft_size_threshold = 3, 3
    congregation.save()
    client.force_login(facilitator)

    page = send("a@example.net\nb@example.net")

    assert "Invited a@example.net" in page
    assert (
        "Not sent to b@example.net: Kotahi has reached its cap of 3 people, counting members "
        "and pending invitations. It may be time to split in two."
    ) in page
    assert [m.to for m in mail.outbox] == [["a@example.net"]]


def test_resending_sends_a_new_link_and_the_old_one_stops_working(
    client: Client,
    congregation: Congregation,
    facilitator: Self,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    invitation, old_token = invite(
        congregation=congregation, email="a@example.net", invited_by=facilitator, send_email=False
    )
    client.force_login(facilitator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            congregation_url("resend_invitation", congregation, pk=invitation.pk)
        )

    assert response.status_code == 302
    assert response["Location"] == congregation_url("invitations", congregation)
    send_due_emails()
    (message,) = mail.outbox
    assert old_token not in link_in(message)
    client.logout()
    assert client.get(f"/invitations/{old_token}/").status_code == 404
    assert client.get(link_in(message)).status_code == 200


def test_resend_and_revoke_swap_the_row_with_htmx(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    invitation, _ = invite(
        congregation=congregation, email="a@example.net", invited_by=facilitator, send_email=False
    )
    client.force_login(facilitator)
    htmx = {"HX-Request": "true"}

    resent = client.post(
        congregation_url("resend_invitation", congregation, pk=invitation.pk), headers=htmx
    )
    revoked = client.post(
        congregation_url("revoke_invitation", congregation, pk=invitation.pk), headers=htmx
    )

    for response in (resent, revoked):
        assert response.status_code == 200
        assert response.content.decode().strip().startswith(f'<li id="invitation-{invitation.pk}">')
    assert "A new link is on its way to a@example.net." in resent.content.decode()
    row = revoked.content.decode()
    assert "revoked" in row and "no longer works" in row
    assert "Revoke</button>" not in row
    with tenant(invitation):
        invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_revoking_twice_says_why(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    invitation, _ = invite(
        congregation=congregation, email="a@example.net", invited_by=facilitator, send_email=False
    )
    client.force_login(facilitator)
    url = congregation_url("revoke_invitation", congregation, pk=invitation.pk)
    client.post(url)

    response = client.post(url, follow=True)

    assert "answered or revoked already" in response.content.decode()


def test_revoking_an_invitation_makes_its_link_stop_working(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    invitation, token = invite(
        congregation=congregation, email="a@example.net", invited_by=facilitator, send_email=False
    )
    client.force_login(facilitator)

    client.post(congregation_url("revoke_invitation", congregation, pk=invitation.pk))

    client.logout()
    assert client.get(f"/invitations/{token}/").status_code == 404


def test_statuses_are_listed(client: Client, congregation: Congregation, facilitator: Self) -> None:
    now = timezone.now()
    for email, sent in (("old@example.net", now - timedelta(days=20)), ("new@example.net", now)):
        invite(
            congregation=congregation,
            email=email,
            invited_by=facilitator,
            send_email=False,
            now=sent,
        )
    client.force_login(facilitator)

    invitations = client.get(congregation_url("invitations", congregation)).context["invitations"]

    assert {i.email: i.status for i in invitations} == {
        "old@example.net": "expired",
        "new@example.net": "pending",
    }


def test_a_member_cannot_touch_an_invitation_they_did_not_send(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    invitation, _ = invite(
        congregation=congregation, email="a@example.net", invited_by=facilitator, send_email=False
    )
    client.force_login(member)

    for name in ("resend_invitation", "revoke_invitation"):
        assert (
            client.post(congregation_url(name, congregation, pk=invitation.pk)).status_code == 404
        )
    with tenant(invitation):
        invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_a_member_revokes_their_own(
    client: Client, congregation: Congregation, member: Self
) -> None:
    invitation, _ = invite(
        congregation=congregation, email="a@example.net", invited_by=member, send_email=False
    )
    client.force_login(member)

    client.post(congregation_url("revoke_invitation", congregation, pk=invitation.pk))

    with tenant(invitation):
        invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_resend_and_revoke_take_only_post(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    invitation, _ = invite(
        congregation=congregation, email="a@example.net", invited_by=facilitator, send_email=False
    )
    client.force_login(facilitator)

    for name in ("resend_invitation", "revoke_invitation"):
        assert client.get(congregation_url(name, congregation, pk=invitation.pk)).status_code == 405
    assert client.put(congregation_url("invitations", congregation)).status_code == 405


def test_an_htmx_post_without_the_csrf_token_is_refused(
    congregation: Congregation, facilitator: Self
) -> None:
    invitation, _ = invite(
        congregation=congregation, email="a@example.net", invited_by=facilitator, send_email=False
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(facilitator)

    response = client.post(
        congregation_url("revoke_invitation", congregation, pk=invitation.pk),
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 403
    with tenant(invitation):
        invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_an_htmx_post_with_the_csrf_header_from_the_page_is_accepted(
    congregation: Congregation, facilitator: Self
) -> None:
    invitation, _ = invite(
        congregation=congregation, email="a@example.net", invited_by=facilitator, send_email=False
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(facilitator)
    page = client.get(congregation_url("invitations", congregation)).content.decode()
    found = re.search(r"data-hx-headers='\{\"X-CSRFToken\": \"(\w+)\"\}'", page)
    assert found, "the page carries the CSRF token for htmx"

    response = client.post(
        congregation_url("revoke_invitation", congregation, pk=invitation.pk),
        headers={"HX-Request": "true", "X-CSRFToken": found.group(1)},
    )

    assert response.status_code == 200
    with tenant(invitation):
        invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_a_removed_member_is_no_longer_counted(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    with tenant(congregation):
        Membership.objects.filter(member=member).update(left_at=timezone.now())
    client = Client()
    client.force_login(facilitator)

    page = client.get(congregation_url("invitations", congregation)).content.decode()

    assert "1 member and 0 pending" in page
