"""One friendly reminder to someone who has not answered an invitation, three days before
its link lapses: sent once, with a fresh link beside the first, never for an invitation
that is answered, revoked, lapsed or short-lived; and the facilitator sees which lapse soon."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from congregations.models import Congregation, Email, Invitation, Self
from congregations.selectors import joined_with, open_invitation
from congregations.services import (
    accept_invitation,
    invite,
    remind_invitations,
    resend_invitation,
    revoke_invitation,
    update_profile,
    update_settings,
)
from congregations.services import reminders as invitation_reminders
from congregations.tenancy import tenant
from microsolidarity.models import ItemFailure
from tests.builders import congregation_url, poison
from tests.pages import text

from ..factories import SelfFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

SENT = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
# Fourteen days' link (the default): it lapses at 15:00 UTC on 15 March.
EXPIRES = SENT + timedelta(days=14)
DUE = EXPIRES - timedelta(days=3)


@pytest.fixture
def inviter(facilitator: Self) -> Self:
    return update_profile(self_=facilitator, timezone="America/New_York")


def invited(congregation: Congregation, inviter: Self, email: str = "ben@example.net") -> str:
    """The token of the first email's link."""
    return invite(
        congregation=congregation,
        email=email,
        invited_by=inviter,
        note="Come and meet the others.",
        now=SENT,
    )[1]


def reminders(congregation: Congregation) -> list[Email]:
    with tenant(congregation):
        return list(Email.objects.filter(key__startswith="invitation-reminder:"))


def token_in(email: Email) -> str:
    found = re.search(r"/invitations/(\S+)/", email.body)
    assert found, email.body
    return found.group(1)


def the_invitation(congregation: Congregation) -> Invitation:
    with tenant(congregation):
        return Invitation.objects.get()


def test_one_reminder_three_days_before_with_the_note_and_the_expiry_and_both_links_work(
    congregation: Congregation, inviter: Self
) -> None:
    first = invited(congregation, inviter)

    assert remind_invitations(now=DUE - timedelta(minutes=1)) == 0
    assert remind_invitations(now=DUE) == 1
    assert remind_invitations(now=DUE + timedelta(hours=1)) == 0

    (email,) = reminders(congregation)
    assert email.address == "ben@example.net"
    assert email.subject == f"A reminder: {inviter.display_name} invites you to Kotahi"
    assert "Come and meet the others." in email.body
    assert f"{inviter.display_name} invited you to join Kotahi" in email.body
    # In the congregation's timezone (UTC here), not the inviter's New York, named: the
    # invited person has none of theirs yet.
    assert "Monday 15 March 2027, 15:00 UTC" in email.body
    second = token_in(email)
    assert second != first
    assert the_invitation(congregation).reminded_at == DUE

    for token in (first, second):
        assert open_invitation(token, now=EXPIRES - timedelta(minutes=1)) is not None
        assert open_invitation(token, now=EXPIRES) is None

    ben = SelfFactory.create(email="ben@example.net")
    accept_invitation(token=first, self_=ben, now=DUE + timedelta(days=1))
    assert joined_with(second, self_=ben) == congregation


def test_the_reminder_s_link_accepts_too(congregation: Congregation, inviter: Self) -> None:
    invited(congregation, inviter)
    remind_invitations(now=DUE)
    ben = SelfFactory.create(email="ben@example.net")

    accept_invitation(token=token_in(reminders(congregation)[0]), self_=ben, now=DUE)

    assert the_invitation(congregation).accepted_by == ben


def test_a_resend_makes_every_earlier_link_stop_working(
    congregation: Congregation, inviter: Self
) -> None:
    first = invited(congregation, inviter)
    remind_invitations(now=DUE)
    second = token_in(reminders(congregation)[0])

    invitation, third = resend_invitation(
        invitation=the_invitation(congregation), resent_by=inviter, now=DUE
    )

    assert open_invitation(first, now=DUE) is None
    assert open_invitation(second, now=DUE) is None
    assert open_invitation(third, now=DUE) == invitation
    # The new link lives its own fourteen days, and is reminded of once too.
    assert remind_invitations(now=DUE + timedelta(days=10)) == 0
    assert remind_invitations(now=DUE + timedelta(days=11)) == 1
    assert len(reminders(congregation)) == 2


def test_an_answered_or_revoked_invitation_is_not_reminded(
    congregation: Congregation, inviter: Self
) -> None:
    accepted = invited(congregation, inviter, "ben@example.net")
    accept_invitation(token=accepted, self_=SelfFactory.create(email="ben@example.net"), now=SENT)
    invited(congregation, inviter, "cy@example.net")
    with tenant(congregation):
        revoked = Invitation.objects.get(email="cy@example.net")
    revoke_invitation(invitation=revoked, revoked_by=inviter, now=SENT)

    assert remind_invitations(now=DUE) == 0
    assert reminders(congregation) == []


def test_a_lapsed_a_short_lived_or_a_never_emailed_invitation_is_not_reminded(
    congregation: Congregation, inviter: Self
) -> None:
    invite(
        congregation=congregation,
        email="loaded@example.net",
        invited_by=inviter,
        send_email=False,
        now=SENT,
    )
    assert remind_invitations(now=DUE) == 0

    invited(congregation, inviter, "late@example.net")
    assert remind_invitations(now=EXPIRES) == 0  # the job was down until it lapsed

    update_settings(
        congregation=congregation, changed_by=inviter, invitation_lifetime_days=5, now=SENT
    )
    invited(congregation, inviter, "short@example.net")
    assert remind_invitations(now=SENT + timedelta(days=2, hours=1)) == 0
    assert reminders(congregation) == []


def test_one_that_fails_stops_no_other(
    monkeypatch: pytest.MonkeyPatch, congregation: Congregation, inviter: Self
) -> None:
    invited(congregation, inviter, "ben@example.net")
    invited(congregation, inviter, "cy@example.net")
    with tenant(congregation):
        bad = Invitation.objects.get(email="ben@example.net")
    poison(monkeypatch, invitation_reminders, "_remind", bad)

    assert remind_invitations(now=DUE) == 1
    assert [email.address for email in reminders(congregation)] == ["cy@example.net"]
    failure = ItemFailure.objects.get(job="remind_invitations")
    assert failure.item_id == bad.pk

    monkeypatch.undo()
    assert remind_invitations(now=failure.retry_after) == 1
    assert remind_invitations(now=failure.retry_after) == 0


def test_the_facilitator_sees_which_invitations_lapse_soon_and_which_were_reminded(
    client: Client, congregation: Congregation, inviter: Self
) -> None:
    now = timezone.now()
    for email, sent in (("soon@example.net", now - timedelta(days=12)), ("new@example.net", now)):
        invite(congregation=congregation, email=email, invited_by=inviter, now=sent)
    remind_invitations(now=now)
    client.force_login(inviter)

    page = client.get(congregation_url("invitations", congregation))

    with tenant(congregation):
        soon, new = (
            page.context["invitations"].get(email=address)
            for address in ("soon@example.net", "new@example.net")
        )
    rows = {
        invitation.email: text(page).split(f'id="invitation-{invitation.pk}"')[1].split("</li>")[0]
        for invitation in (soon, new)
    }
    assert "lapses in 1\xa0day, 23\xa0hours" in rows["soon@example.net"]
    reminded = timezone.localtime(soon.reminded_at, inviter.timezone)
    assert f"reminded {reminded:%-d %B %Y, %H:%M}" in rows["soon@example.net"]
    assert "lapses in" not in rows["new@example.net"]
    assert "reminded" not in rows["new@example.net"]
