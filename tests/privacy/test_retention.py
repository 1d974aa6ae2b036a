"""Keep nothing longer than needed: the retention job forgets lapsed invitations'
addresses, old emails' contents and archives past their day; a second run changes
nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core import mail

from congregations.models import Congregation, Email, Invitation, MembershipEvent, Self
from congregations.services import invite, revoke_invitation
from congregations.services.outbox import send_due_emails
from congregations.tenancy import across_congregations, tenant
from microsolidarity.models import ItemFailure
from privacy.models import DataArchive
from privacy.services import forget_expired, retention
from privacy.services.downloads import prepare_due_archives, request_archive
from tests.builders import DAY, poison, snapshot
from tests.factories import CongregationFactory, MembershipFactory


def test_lapsed_and_revoked_invitations_forget_their_address_after_30_days(
    congregation: Congregation, facilitator: Self, now: datetime
) -> None:
    long_ago = now - 60 * DAY
    lapsed, _ = invite(
        congregation=congregation,
        email="lapsed@example.net",
        invited_by=facilitator,
        note="Dear Lapsed",
        now=long_ago,
    )
    revoked, _ = invite(
        congregation=congregation,
        email="revoked@example.net",
        invited_by=facilitator,
        now=long_ago,
    )
    revoke_invitation(invitation=revoked, revoked_by=facilitator, now=now - 31 * DAY)
    recent, _ = invite(
        congregation=congregation,
        email="recent@example.net",
        invited_by=facilitator,
        now=long_ago,
    )
    revoke_invitation(invitation=recent, revoked_by=facilitator, now=now - 29 * DAY)
    pending, _ = invite(
        congregation=congregation, email="pending@example.net", invited_by=facilitator, now=now
    )

    assert forget_expired(now=now) == 2

    with tenant(congregation):
        addresses = dict(Invitation.objects.values_list("pk", "email"))
        assert addresses[lapsed.pk] == f"invitation-{lapsed.pk}@forgotten.invalid"
        assert addresses[revoked.pk] == f"invitation-{revoked.pk}@forgotten.invalid"
        assert addresses[recent.pk] == "recent@example.net"
        assert addresses[pending.pk] == "pending@example.net"
        assert Invitation.objects.get(pk=lapsed.pk).note == ""
        # History keeps that someone was invited and revoked, not who.
        history = set(MembershipEvent.objects.values_list("action", "email"))
        assert ("invited", "") in history and ("revoked", "") in history
        assert not {"lapsed@example.net", "revoked@example.net"} & {e for _, e in history}
        assert ("invited", "recent@example.net") in history


def test_sent_emails_forget_their_contents_after_30_days_and_keep_key_and_state(
    congregation: Congregation, facilitator: Self, now: datetime
) -> None:
    invite(
        congregation=congregation,
        email="old@example.net",
        invited_by=facilitator,
        now=now - 40 * DAY,
    )
    send_due_emails(now=now - 40 * DAY)
    invite(
        congregation=congregation,
        email="new@example.net",
        invited_by=facilitator,
        now=now - 10 * DAY,
    )
    send_due_emails(now=now - 10 * DAY)
    assert len(mail.outbox) == 2

    forget_expired(now=now)

    with tenant(congregation):
        old, new = Email.objects.order_by("created_at")
    assert (old.address, old.subject, old.body) == ("", "", "")
    assert old.key and old.sent_at == now - 40 * DAY
    assert new.address == "new@example.net" and new.body
    # Nothing is sent again.
    assert send_due_emails(now=now) == 0


def test_archives_are_deleted_after_their_day(member: Self, now: datetime) -> None:
    request_archive(self_=member, now=now - 2 * DAY)
    prepare_due_archives(now=now - 2 * DAY)
    request_archive(self_=member, now=now)

    forget_expired(now=now)

    assert list(DataArchive.objects.values_list("requested_at", flat=True)) == [now]


def test_every_congregation_s_rows_are_forgotten_in_one_run_and_a_second_run_changes_nothing(
    db: None, now: datetime
) -> None:
    congregations = [CongregationFactory.create() for _ in range(3)]
    for congregation in congregations:
        inviter = MembershipFactory.create(congregation=congregation).member
        invite(
            congregation=congregation,
            email="someone@example.net",
            invited_by=inviter,
            now=now - 60 * DAY,
        )
    send_due_emails(now=now - 60 * DAY)

    assert forget_expired(now=now) == 6  # an invitation and its email in each
    after_first = snapshot()
    assert forget_expired(now=now) == 0
    assert snapshot() == after_first

    with across_congregations():
        assert not Invitation.objects.filter(email="someone@example.net").exists()
        assert not Email.objects.exclude(body="").exists()


def test_an_invitation_that_fails_fails_alone_and_is_forgotten_on_a_later_run(
    db: None, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    lapsed = []
    for congregation in [CongregationFactory.create() for _ in range(2)]:
        inviter = MembershipFactory.create(congregation=congregation).member
        invitation, _ = invite(
            congregation=congregation,
            email="someone@example.net",
            invited_by=inviter,
            send_email=False,
            now=now - 60 * DAY,
        )
        lapsed.append(invitation)
    bad, good = lapsed
    with monkeypatch.context() as patched:
        poison(patched, retention, "_forget_invitation", bad)
        assert forget_expired(now=now) == 1

    with across_congregations():
        assert Invitation.objects.get(pk=bad.pk).email == "someone@example.net"
        assert Invitation.objects.get(pk=good.pk).email.endswith("@forgotten.invalid")
    assert ItemFailure.objects.get(job=retention.INVITATIONS_JOB).item_id == bad.pk
    assert forget_expired(now=now + DAY) == 1
    with across_congregations():
        assert Invitation.objects.get(pk=bad.pk).email.endswith("@forgotten.invalid")
