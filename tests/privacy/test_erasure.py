"""Leaving for good (``erase_self``): a Self is anonymised, never deleted. They can no
longer sign in, every page that listed them says "Former member", nothing is emailed to
them again, and every crew's points still add up to the point."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client

from congregations.models import (
    Congregation,
    Email,
    Invitation,
    Membership,
    MembershipEvent,
    Notification,
    Role,
    Self,
)
from congregations.services import (
    accept_invitation,
    change_role,
    invite,
    leave_congregation,
    send_due_emails,
)
from congregations.tenancy import tenant
from crews.models import CalendarFeed, Crew, CrewInvitation, CrewMembership
from crews.services import invite_to_crew, renew_calendar_feed
from crews.services import reminders as crew_reminders
from privacy.services import erase_self
from reciprocity.models import LedgerEntry
from reciprocity.selectors import crew_breakdown, crew_scores, member_score
from tests.builders import (
    DAY,
    HOUR,
    conflict,
    congregation_url,
    membership_of,
    new_members,
    refused,
    scheduled_meeting,
    signed_in,
)
from tests.factories import PASSWORD, CongregationFactory, MembershipFactory, SelfFactory
from tests.pages import text

pytestmark = pytest.mark.django_db

NAME = "Ana Whetu"
ADDRESS = "ana@example.net"
CODE = re.compile(r"\b\d{6}\b")


@pytest.fixture
def ana(member: Self) -> Self:
    """The member, with a name and address a page or an email would show."""
    member.display_name, member.email = NAME, ADDRESS
    member.save()
    EmailAddress.objects.filter(user=member).update(email=ADDRESS)
    return member


def sign_in(client: Client, email: str, password: str = PASSWORD) -> int:
    return client.post("/accounts/login/", {"login": email, "password": password}).status_code


def ask_for_code(email: str) -> list[str]:
    """The codes emailed when someone asks to sign in with a code sent to ``email``."""
    mail.outbox.clear()
    Client().post("/accounts/login/code/", {"email": email})
    return [code for message in mail.outbox for code in CODE.findall(str(message.body))]


def test_the_erased_self_can_no_longer_sign_in(ana: Self, congregation: Congregation) -> None:
    browser = Client()
    assert sign_in(browser, ADDRESS) == 302
    signed_in_as_ana = browser.session.session_key
    assert ask_for_code(ADDRESS)  # before: a code comes
    renew_calendar_feed(owner=ana)
    Authenticator.objects.create(user=ana, type=Authenticator.Type.TOTP, data={"secret": "x"})

    erase_self(self_=ana)

    assert not Session.objects.filter(session_key=signed_in_as_ana).exists()
    assert browser.get("/profile/").status_code == 302  # signed out: sent to sign in
    assert sign_in(Client(), ADDRESS) == 200  # the form again, with its refusal
    assert sign_in(Client(), ana.email) == 200
    assert ask_for_code(ADDRESS) == []
    ana.refresh_from_db()
    assert ask_for_code(ana.email) == []
    assert not ana.has_usable_password()
    assert not ana.is_active
    for model, owner in [
        (EmailAddress, "user"),
        (Authenticator, "user"),
        (UserSession, "user"),
        (CalendarFeed, "owner"),
    ]:
        assert not model.objects.filter(**{owner: ana}).exists(), model


def test_the_self_is_anonymised_but_their_rows_stay(ana: Self, played: Crew) -> None:
    with tenant(played):
        before = list(LedgerEntry.objects.filter(member=ana).values_list("pk", "points"))

    erase_self(self_=ana)

    ana.refresh_from_db()
    assert ana.display_name == "Former member"
    assert ana.email == f"former-{ana.pk}@anonymised.invalid"
    assert (ana.paid_work, ana.meaningful_work) == ("", "")
    assert ana.anonymised_at is not None
    assert not ana.email_digest and not ana.reminders_enabled
    with tenant(played):
        assert list(LedgerEntry.objects.filter(member=ana).values_list("pk", "points")) == before
    assert not Self.objects.filter(email=ADDRESS).exists()


def test_two_former_members_have_addresses_of_their_own(congregation: Congregation) -> None:
    first, second = new_members(congregation, 2)
    erase_self(self_=first)
    erase_self(self_=second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.email != second.email
    assert {first.email.rpartition("@")[2], second.email.rpartition("@")[2]} == {
        "anonymised.invalid"
    }


def test_each_crew_s_points_still_add_up_to_the_point(
    ana: Self, played: Crew, crew_mate: Self, third: Self
) -> None:
    with tenant(played):
        before = crew_breakdown(crew=played)
        before_scores = crew_scores(crew=played)
        congregation = played.congregation
        earned = member_score(self_=ana, congregation=congregation)
    assert earned > 0

    erase_self(self_=ana)

    with tenant(played):
        after = crew_breakdown(crew=played)
        assert after.total == before.total
        assert after.by_level == before.by_level
        # The others' scores are as they were; Ana's points stay in the crew's total.
        assert crew_scores(crew=played) == {
            pk: points for pk, points in before_scores.items() if pk != ana.pk
        }
        assert member_score(self_=ana, congregation=congregation) == earned
    former = next(row for row in after.rows if row.member.pk == ana.pk)
    assert (str(former.member), former.current, former.total) == ("Former member", False, earned)


def test_every_page_that_listed_them_says_former_member(
    ana: Self, played: Crew, crew_mate: Self, facilitator: Self
) -> None:
    congregation = played.congregation
    the_conflict = conflict(played, ana, crew_mate)  # opened by Ana: the crew-mate is told
    mate, facilitating = signed_in(crew_mate), signed_in(facilitator)
    pages = [
        (mate, congregation_url("reciprocity:crew_scores", congregation, crew_pk=played.pk)),
        (mate, congregation_url("reciprocity:crew_entries", congregation, crew_pk=played.pk)),
        (mate, congregation_url("reciprocity:conflict", congregation, pk=the_conflict.pk)),
        (mate, "/notifications/"),
    ]
    listing_now = [
        (mate, congregation_url("crews:crew", congregation, pk=played.pk)),
        (mate, congregation_url("crews:people", congregation)),
        (facilitating, congregation_url("members", congregation)),
    ]
    for client, url in pages + listing_now:
        assert NAME in text(client.get(url)), url  # before, each page names them

    erase_self(self_=ana)

    # History now tells that they left, under the name they have now.
    pages.append((facilitating, congregation_url("history", congregation)))
    for client, url in pages:
        page = text(client.get(url))
        assert "Former member" in page, url
        assert NAME not in page and ADDRESS not in page, url
    # The pages of who is in it now no longer list them at all.
    for client, url in listing_now:
        page = text(client.get(url))
        assert NAME not in page and ADDRESS not in page, url


def test_a_congregation_they_had_left_names_them_no_more(
    ana: Self, played: Crew, crew_mate: Self
) -> None:
    """Their name stays on the scores of the crew they were in after they left; the page
    cached with it must not outlive their erasure (it was cached by the roster's version,
    which only a current member's change moved)."""
    congregation = played.congregation
    leave_congregation(membership=membership_of(ana, congregation))
    mate = signed_in(crew_mate)
    scores = congregation_url("reciprocity:crew_scores", congregation, crew_pk=played.pk)
    assert NAME in text(mate.get(scores))  # rendered, and cached, with their name

    erase_self(self_=ana)

    page = text(mate.get(scores))
    assert NAME not in page
    assert "Former member" in page


def test_a_name_changed_after_leaving_shows_where_they_were(
    ana: Self, played: Crew, crew_mate: Self
) -> None:
    congregation = played.congregation
    leave_congregation(membership=membership_of(ana, congregation))
    mate = signed_in(crew_mate)
    scores = congregation_url("reciprocity:crew_scores", congregation, crew_pk=played.pk)
    assert NAME in text(mate.get(scores))

    ana.display_name = "Ana Kahu"
    ana.save()

    page = text(mate.get(scores))
    assert "Ana Kahu" in page and NAME not in page


def test_history_keeps_no_address_of_theirs(congregation: Congregation, facilitator: Self) -> None:
    """Invited and joined: History said "invited ana@example.net"; now it names nobody."""
    ana = SelfFactory.create(email=ADDRESS, display_name=NAME)
    _, token = invite(
        congregation=congregation, email=ADDRESS, invited_by=facilitator, send_email=False
    )
    accept_invitation(token=token, self_=ana)
    history = congregation_url("history", congregation)
    assert ADDRESS in text(signed_in(facilitator).get(history))

    erase_self(self_=ana)

    page = text(signed_in(facilitator).get(history))
    assert ADDRESS not in page and NAME not in page
    assert "Former member" in page
    with tenant(congregation):
        assert not Invitation.objects.filter(email=ADDRESS).exists()


def test_they_leave_every_congregation_through_the_way_a_member_leaves(
    ana: Self, played: Crew, crew_mate: Self, neighbour: Self, facilitator: Self
) -> None:
    congregation = played.congregation
    elsewhere = CongregationFactory.create(name="Elsewhere")
    MembershipFactory.create(congregation=elsewhere, member=ana)
    sent, _ = invite(
        congregation=congregation, email="bo@example.net", invited_by=ana, send_email=False
    )
    asked = invite_to_crew(crew=played, invitee=neighbour, invited_by=ana)

    erase_self(self_=ana)

    for place in (congregation, elsewhere):
        with tenant(place):
            assert not Membership.objects.current().filter(member=ana).exists()
            assert MembershipEvent.objects.filter(
                subject=ana, action=MembershipEvent.Action.LEFT
            ).exists()
    with tenant(congregation):
        assert not CrewMembership.objects.current().filter(member=ana).exists()
        assert CrewInvitation.objects.get(pk=asked.pk).withdrawn_at is not None
        assert Invitation.objects.get(pk=sent.pk).revoked_at is not None


def test_no_email_reaches_them_again(
    ana: Self, played: Crew, crew_mate: Self, now: datetime
) -> None:
    congregation = played.congregation
    meeting = scheduled_meeting(played, now + 3 * DAY)
    conflict(played, crew_mate, ana)  # asks Ana to resolve it: an email is queued
    with tenant(congregation):
        queued = Email.objects.get(recipient=ana, sent_at__isnull=True)
    mail.outbox.clear()

    erase_self(self_=ana)

    send_due_emails(now=now + HOUR)
    # Later the meeting's reminder goes out to the crew, and not to them.
    crew_reminders.send_due_reminders(now=meeting.starts_at - HOUR)
    send_due_emails(now=meeting.starts_at - HOUR)
    addresses = {to for message in mail.outbox for to in message.to}
    assert ADDRESS not in addresses
    assert not any(address.endswith(".invalid") for address in addresses)
    assert mail.outbox  # the crew-mates' reminders did go out
    with tenant(congregation):
        queued.refresh_from_db()
        assert queued.sent_at is None and queued.failed_at is not None
        assert not Email.objects.filter(recipient=ana, sent_at__isnull=False).exists()
        assert not Email.objects.filter(address=ADDRESS).exists()
        assert not Email.objects.filter(recipient=ana).exclude(body="").exists()
        assert not Notification.objects.filter(recipient=ana).exists()


def test_the_last_facilitator_is_stopped_until_they_hand_over(
    facilitator: Self, member: Self, congregation: Congregation
) -> None:
    with refused("You are the last facilitator of Kotahi"):
        erase_self(self_=facilitator)

    change_role(
        membership=membership_of(member, congregation),
        role=Role.FACILITATOR,
        changed_by=facilitator,
    )
    erase_self(self_=facilitator)

    facilitator.refresh_from_db()
    assert facilitator.anonymised_at is not None


def test_a_facilitator_alone_in_their_congregation_leaves_it(db: None) -> None:
    alone = MembershipFactory.create(role=Role.FACILITATOR).member
    erase_self(self_=alone)
    alone.refresh_from_db()
    assert alone.anonymised_at is not None


def test_erasing_twice_is_refused_the_second_time(member: Self) -> None:
    erase_self(self_=member)
    with refused("deleted already"):
        erase_self(self_=member, now=None)
