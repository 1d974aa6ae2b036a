"""The profile's "Delete my account": the page says what goes and what stays; nothing is
deleted until the Self confirms it is them (password, or an emailed code when they have
no password); a wrong password or code changes nothing and says so; then they are signed
out and told it is done."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from congregations.models import Congregation, Role, Self
from congregations.services import change_role
from tests.builders import membership_of, writes_nothing
from tests.factories import PASSWORD, MembershipFactory
from tests.pages import text

pytestmark = pytest.mark.django_db

PAGE = "/privacy/delete/"
DONE = "/privacy/deleted/"
NEXT = "?next=%2Fprivacy%2Fdelete%2F"
CONFIRM = f"/accounts/reauthenticate/{NEXT}"
ASK_CODE = f"/accounts/reauthenticate/code/{NEXT}"
ENTER_CODE = f"/accounts/reauthenticate/code/confirm/{NEXT}"


def signed_in(self_: Self) -> Client:
    """Signed in through the form, as a person is (so the session is one allauth knows)."""
    client = Client()
    response = client.post("/accounts/login/", {"login": self_.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def erased(self_: Self) -> bool:
    self_.refresh_from_db()
    return self_.anonymised_at is not None


def test_the_profile_leads_to_a_page_that_says_what_goes_and_what_stays(member: Self) -> None:
    client = signed_in(member)
    assert PAGE in text(client.get("/profile/"))
    page = " ".join(text(client.get(PAGE)).split())
    assert "What goes" in page and "What stays" in page
    assert "“Former member”" in page
    assert "Delete my account" in page


def test_a_visitor_is_sent_to_sign_in(db: None) -> None:
    response = Client().get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_confirmed_with_the_password_the_account_is_deleted_and_signed_out(member: Self) -> None:
    client = signed_in(member)

    with writes_nothing():
        asked = client.post(PAGE)
    assert asked.status_code == 302 and asked["Location"] == CONFIRM

    with writes_nothing():
        wrong = client.post(CONFIRM, {"password": "not-my-password"})
    assert wrong.status_code == 200
    assert "Incorrect password." in text(wrong)
    assert "Confirm it is you" in text(wrong)  # plain words, not allauth's "Confirm Access"
    assert not erased(member)

    done = client.post(CONFIRM, {"password": PASSWORD})
    assert done.status_code == 302 and done["Location"] == DONE
    assert erased(member)
    assert "Your account is deleted" in text(client.get(DONE))
    assert client.get("/profile/").status_code == 302  # signed out


def test_without_a_password_an_emailed_code_confirms_it(member: Self) -> None:
    member.set_unusable_password()
    member.save()
    client = Client()
    client.force_login(member)

    asked = client.post(PAGE)
    assert asked.status_code == 302 and asked["Location"] == ASK_CODE
    mail.outbox.clear()
    sent = client.post(ASK_CODE, {"recipient": member.email})
    assert sent.status_code == 302 and sent["Location"] == ENTER_CODE
    [message] = mail.outbox
    assert message.to == [member.email]
    code = re.search(r"\b[A-Z0-9]{6}\b", str(message.body))
    assert code is not None

    with writes_nothing():
        wrong = client.post(ENTER_CODE, {"code": "000000" if code[0] != "000000" else "111111"})
    assert wrong.status_code == 200
    assert "Incorrect code." in text(wrong)
    assert not erased(member)

    done = client.post(ENTER_CODE, {"code": code[0]})
    assert done.status_code == 302 and done["Location"] == DONE
    assert erased(member)


def test_the_last_facilitator_is_shown_where_to_hand_over_then_can_leave(
    facilitator: Self, member: Self, congregation: Congregation
) -> None:
    client = signed_in(facilitator)
    page = " ".join(text(client.get(PAGE)).split())
    assert "You are the last facilitator of Kotahi" in page
    assert f"/c/{congregation.slug}/members/" in page
    assert "Delete my account</button>" not in page

    client.post(PAGE)
    with writes_nothing():
        refused = client.post(CONFIRM, {"password": PASSWORD})
    assert refused.status_code == 200
    assert "You are the last facilitator of Kotahi" in " ".join(text(refused).split())
    assert not erased(facilitator)

    change_role(
        membership=membership_of(member, congregation),
        role=Role.FACILITATOR,
        changed_by=facilitator,
    )
    assert "last facilitator" not in text(client.get(PAGE))
    # Confirmed a moment ago: allauth does not ask again within its few minutes.
    assert client.post(PAGE)["Location"] == DONE
    assert erased(facilitator)


def test_the_deleted_page_is_a_plain_page_for_anyone(db: None) -> None:
    assert Client().get(DONE).status_code == 200


def test_a_former_member_s_old_client_cannot_reach_the_page(db: None) -> None:
    """Deleted in another tab: this one is signed out too."""
    member = MembershipFactory.create().member
    first, second = signed_in(member), signed_in(member)
    first.post(PAGE)
    first.post(CONFIRM, {"password": PASSWORD})
    response = second.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_page_runs_a_few_queries_however_many_congregations(
    facilitator: Self, django_assert_max_num_queries: Any
) -> None:
    for _ in range(3):
        MembershipFactory.create(member=facilitator, role=Role.FACILITATOR)
        MembershipFactory.create(member=facilitator)
    client = signed_in(facilitator)
    with django_assert_max_num_queries(7):
        assert client.get(PAGE).status_code == 200
