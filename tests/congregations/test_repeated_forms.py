"""A form sent twice (a double click, a reload, a retry on a flaky connection) is one
action: the invitation batch, signing up with an invitation and starting a congregation
make one thing each, and the second answer is the first's, whether the copies come one
after the other or at the same instant."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from congregations.models import DEFAULT_PURPOSE, Congregation, Invitation, Membership, Self
from congregations.request_keys import new_request_key
from congregations.services import accept_invitation
from congregations.services.outbox import send_due_emails
from congregations.tenancy import tenant
from tests.builders import congregation_url, membership_of, sent_twice, signed_in

from ..factories import SelfFactory

PASSWORDS = {"password1": "a-good-long-password", "password2": "a-good-long-password"}


BOTH = pytest.mark.parametrize(
    "at_once",
    [pytest.param(False, id="one after the other"), pytest.param(True, id="at once")],
)
# The "at once" cases need their threads' transactions to commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


# --- the invitation batch ------------------------------------------------------------------


def report(page: Any) -> str:
    found = re.search(r'<section[^>]*id="report".*?</section>', page.content.decode(), re.S)
    assert found, page.content.decode()
    return found.group(0)


@BOTH
def test_an_invitation_batch_sent_twice_reports_the_same_and_invites_once(
    congregation: Congregation, facilitator: Self, member: Self, at_once: bool
) -> None:
    data = {
        "request_key": new_request_key(congregation),
        "emails": f"ana@example.net\nnot an address\n{member.email}\nben@example.net",
        "note": "",
    }
    page = congregation_url("invitations", congregation)

    first, again = sent_twice(
        [signed_in(facilitator), signed_in(facilitator)],
        lambda client: client.post(page, data),
        at_once=at_once,
        congregation=congregation,
    )

    assert report(first) == report(again)
    assert "Invited ana@example.net" in report(again)
    assert "Invited ben@example.net" in report(again)
    assert "has been invited already" not in report(again)
    with tenant(congregation):
        invitations = Invitation.objects.filter(congregation=congregation)
        emails = sorted(invitations.values_list("email", flat=True))
    assert emails == ["ana@example.net", "ben@example.net"]
    send_due_emails()
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.net", "ben@example.net"]


def test_a_new_batch_after_a_sent_one_gets_a_fresh_key(
    congregation: Congregation, facilitator: Self
) -> None:
    client = signed_in(facilitator)
    data = {"request_key": new_request_key(congregation), "emails": "ana@example.net"}

    after = client.post(congregation_url("invitations", congregation), data, follow=True)

    assert after.context["form"]["request_key"].value() != data["request_key"]


def test_a_batch_with_a_stale_key_is_refused_once_above_the_form(
    congregation: Congregation, facilitator: Self
) -> None:
    client = signed_in(facilitator)
    data = {"request_key": "made-up", "emails": "ana@example.net\nben@example.net"}

    response = client.post(congregation_url("invitations", congregation), data)

    assert response.context["form"].non_field_errors() == [
        "This form has expired or was changed. Reload the page and try again."
    ]
    with tenant(congregation):
        assert not Invitation.objects.filter(congregation=congregation).exists()


# --- signing up with an invitation ---------------------------------------------------------


@BOTH
def test_a_sign_up_sent_twice_makes_one_account_and_signs_in_both_times(
    congregation: Congregation, token: str, at_once: bool
) -> None:
    data = {"display_name": "Ben", "request_key": new_request_key(congregation), **PASSWORDS}
    clients = [Client(), Client()]

    responses = sent_twice(
        clients,
        lambda client: client.post(f"/invitations/{token}/", data),
        at_once=at_once,
        congregation=congregation,
    )

    home = congregation_url("crews:congregation", congregation)
    welcome = congregation_url("reciprocity:welcome", congregation)
    assert [r.status_code for r in responses] == [302, 302]
    assert [r["Location"] for r in responses] == [welcome, welcome]
    ben = Self.objects.get(email="ben@example.net")
    assert membership_of(ben, congregation).role == "member"
    with tenant(congregation):
        assert Membership.objects.filter(member=ben).count() == 1
    assert [c.get(home).status_code for c in clients] == [200, 200]  # both signed in


def test_a_repeated_sign_up_with_another_password_signs_nobody_in(
    congregation: Congregation, token: str
) -> None:
    data = {"display_name": "Ben", "request_key": new_request_key(congregation), **PASSWORDS}
    Client().post(f"/invitations/{token}/", data)
    stranger = Client()

    response = stranger.post(
        f"/invitations/{token}/",
        {**data, "password1": "someone-elses-guess", "password2": "someone-elses-guess"},
    )

    assert response.status_code == 404
    assert "This invitation link does not work" in response.content.decode()
    assert stranger.get(congregation_url("crews:congregation", congregation)).status_code == 302


def test_a_sign_up_reloaded_after_it_worked_goes_in(congregation: Congregation, token: str) -> None:
    client = Client()
    data = {"display_name": "Ben", "request_key": new_request_key(congregation), **PASSWORDS}
    client.post(f"/invitations/{token}/", data)

    # Signed in now: the same form again goes in as the first did (to the welcome), the
    # link opened again to the congregation's home.
    again = client.post(f"/invitations/{token}/", data)
    opened = client.get(f"/invitations/{token}/")

    assert again["Location"] == congregation_url("reciprocity:welcome", congregation)
    assert opened["Location"] == congregation_url("crews:congregation", congregation)


@BOTH
def test_join_pressed_twice_joins_once_and_goes_in_both_times(
    congregation: Congregation, token: str, at_once: bool
) -> None:
    ben = SelfFactory.create(email="ben@example.net")

    responses = sent_twice(
        [signed_in(ben), signed_in(ben)],
        lambda client: client.post(f"/invitations/{token}/"),
        at_once=at_once,
        congregation=congregation,
    )

    welcome = congregation_url("reciprocity:welcome", congregation)
    assert [r["Location"] for r in responses] == [welcome, welcome]
    with tenant(congregation):
        assert Membership.objects.filter(member=ben).count() == 1


def test_someone_elses_used_link_stays_broken(
    congregation: Congregation, token: str, outsider: Self
) -> None:
    accept_invitation(token=token, self_=SelfFactory.create(email="ben@example.net"))

    assert signed_in(outsider).get(f"/invitations/{token}/").status_code == 404


# --- starting a congregation ---------------------------------------------------------------


@BOTH
def test_a_start_sent_twice_starts_one_congregation(
    congregation: Congregation, outsider: Self, at_once: bool
) -> None:
    data = {"name": "Western Europe", "purpose": DEFAULT_PURPOSE}
    data["request_key"] = new_request_key(outsider)

    responses = sent_twice(
        [signed_in(outsider), signed_in(outsider)],
        lambda client: client.post("/congregations/new/", data),
        at_once=at_once,
        congregation=congregation,
    )

    started = Congregation.objects.get(name="Western Europe")
    home = congregation_url("crews:congregation", started)
    assert [r["Location"] for r in responses] == [home, home]
    with tenant(started):
        assert Membership.objects.filter(congregation=started).count() == 1


def test_a_start_key_is_the_selfs_own(outsider: Self, member: Self) -> None:
    data = {"name": "Western Europe", "purpose": DEFAULT_PURPOSE}
    data["request_key"] = new_request_key(outsider)

    response = signed_in(member).post("/congregations/new/", data)

    assert response.context["form"].non_field_errors() == [
        "This form belongs to someone else. Reload the page and try again."
    ]
    assert not Congregation.objects.filter(name="Western Europe").exists()
