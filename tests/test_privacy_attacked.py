"""Issue 18 attacked: what went wrong on other platforms (Decidim, OSM) when a member
downloaded their data or left for good, replayed here."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
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
from congregations.services import accept_invitation, invite, leave_congregation
from congregations.services.outbox import send_due_emails
from congregations.tenancy import across_congregations, tenant
from crews.models import Crew
from privacy.models import DataArchive
from privacy.services import erase_self, forget_expired
from privacy.services.downloads import prepare_due_archives, request_archive
from reciprocity.models import ConflictParty, CoOwner, LedgerEntry
from tests.builders import conflict, membership_of, signed_in, together, venture
from tests.factories import CongregationFactory, MembershipFactory, SelfFactory

ADDRESS = "ana@example.net"


def invited_and_joined(congregation: Congregation, inviter: Self, self_: Self) -> None:
    """``self_`` joins ``congregation`` by an emailed invitation to their address."""
    _, token = invite(congregation=congregation, email=self_.email, invited_by=inviter)
    accept_invitation(token=token, self_=self_)


@pytest.mark.django_db
def test_the_invitation_email_to_their_address_forgets_it_when_they_leave_for_good(
    congregation: Congregation, facilitator: Self
) -> None:
    """The invitation email was queued before they had an account (no recipient), so it
    is found by its address, not by who it was for."""
    ana = SelfFactory.create(email=ADDRESS)
    invited_and_joined(congregation, facilitator, ana)

    erase_self(self_=ana)

    with across_congregations():
        assert not Email.objects.filter(address__iexact=ADDRESS).exists()


@pytest.mark.django_db
def test_a_congregation_they_had_left_before_forgets_their_address_too(
    congregation: Congregation, facilitator: Self
) -> None:
    ana = SelfFactory.create(email=ADDRESS)
    invited_and_joined(congregation, facilitator, ana)
    elsewhere = CongregationFactory.create(name="Elsewhere")
    host = MembershipFactory.create(congregation=elsewhere, role=Role.FACILITATOR).member
    invited_and_joined(elsewhere, host, ana)
    leave_congregation(membership=membership_of(ana, elsewhere))

    erase_self(self_=ana)

    with across_congregations():
        assert not Invitation.objects.filter(email__iexact=ADDRESS).exists()
        assert not MembershipEvent.objects.filter(email__iexact=ADDRESS).exists()
        assert not Email.objects.filter(address__iexact=ADDRESS).exists()
        assert not Email.objects.filter(recipient=ana).exclude(body="").exists()


@pytest.mark.django_db
def test_an_archive_not_yet_downloaded_goes_with_the_account(member: Self, now: datetime) -> None:
    """Ready and emailed, then they delete their account: nobody can fetch the zip any
    more, so nothing should keep it for the rest of its day."""
    request_archive(self_=member, now=now)
    assert prepare_due_archives(now=now) == 1

    erase_self(self_=member, now=now)

    assert not DataArchive.objects.filter(owner=member).exclude(content=b"").exists()


@pytest.mark.django_db
def test_an_archive_asked_for_is_not_built_after_they_left_for_good(
    member: Self, now: datetime
) -> None:
    request_archive(self_=member, now=now)
    erase_self(self_=member, now=now)
    assert prepare_due_archives(now=now) == 0
    assert not DataArchive.objects.filter(owner=member).exists()


@pytest.mark.django_db
def test_their_address_can_be_invited_again_and_is_a_new_self_with_nothing_of_the_old(
    congregation: Congregation, facilitator: Self, played: object, member: Self
) -> None:
    member.email = ADDRESS
    member.save()
    erase_self(self_=member)

    _, token = invite(congregation=congregation, email=ADDRESS, invited_by=facilitator)
    again = SelfFactory.create(email=ADDRESS)
    accept_invitation(token=token, self_=again)

    assert again.pk != member.pk
    with tenant(congregation):
        assert not LedgerEntry.objects.filter(member=again).exists()
        assert LedgerEntry.objects.filter(member=member).exists()
        assert membership_of(again, congregation).role == Role.MEMBER


@pytest.mark.django_db
def test_erasure_without_a_congregation_and_the_only_member_of_one(db: None) -> None:
    nowhere = SelfFactory.create()
    erase_self(self_=nowhere)
    nowhere.refresh_from_db()
    assert nowhere.anonymised_at is not None

    only = MembershipFactory.create(role=Role.MEMBER).member
    erase_self(self_=only)
    with across_congregations():
        assert not Membership.objects.current().filter(member=only).exists()


@pytest.mark.django_db(transaction=True)
def test_the_last_two_facilitators_leaving_at_once_leave_one(
    congregation: Congregation, member: Self
) -> None:
    """Each sees the other as the facilitator who stays: the congregation's lock makes
    the second look again, and it is refused, changing nothing."""
    first, second = (
        MembershipFactory.create(congregation=congregation, role=Role.FACILITATOR).member
        for _ in range(2)
    )
    results = together(
        [lambda: erase_self(self_=first), lambda: erase_self(self_=second)],
        congregation=congregation,
    )

    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert len(refusals) == 1, results
    with tenant(congregation):
        assert (
            Membership.objects.current()
            .filter(congregation=congregation, role=Role.FACILITATOR)
            .count()
            == 1
        )
    erased = Self.objects.filter(pk__in=[first.pk, second.pk], anonymised_at__isnull=False)
    assert erased.count() == 1


@pytest.mark.django_db
def test_a_second_retention_run_after_an_erasure_writes_nothing(
    congregation: Congregation, facilitator: Self, now: datetime
) -> None:
    ana = SelfFactory.create(email=ADDRESS)
    invited_and_joined(congregation, facilitator, ana)
    erase_self(self_=ana)
    forget_expired(now=now)
    assert forget_expired(now=now) == 0


@pytest.mark.django_db
def test_a_signed_out_click_on_the_link_does_not_use_it_up(member: Self, now: datetime) -> None:
    """A mail client's link preview or another browser signed out: sent to sign in, and
    the owner's own click afterwards still downloads the zip."""
    request_archive(self_=member, now=now)
    assert prepare_due_archives(now=now) == 1
    send_due_emails(now=now)
    (message,) = mail.outbox
    (url,) = re.findall(r"https?://\S+/privacy/my-data/\S+/", str(message.body))
    path = urlsplit(url).path

    assert Client().get(path).status_code == 302
    response = signed_in(member).get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert signed_in(member).get(path).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_erasing_while_the_archive_is_built_leaves_no_zip_and_no_email_to_send(
    member: Self, congregation: Congregation, now: datetime
) -> None:
    """Whichever goes first, the archive's build locks the Self's row with the archive's,
    so the erasure sees what it built and drops it."""
    request_archive(self_=member, now=now)

    results = together(
        [lambda: prepare_due_archives(now=now), lambda: erase_self(self_=member, now=now)],
        congregation=congregation,
    )

    assert not any(isinstance(r, Exception) for r in results), results
    assert not DataArchive.objects.filter(owner=member).exists()
    with tenant(congregation):
        assert not Email.objects.filter(
            recipient=member, sent_at__isnull=True, failed_at__isnull=True
        ).exists()
        assert not Email.objects.filter(recipient=member).exclude(body="").exists()


@pytest.mark.django_db
def test_another_member_whose_name_begins_with_theirs_keeps_their_name(
    played: Crew, member: Self, crew_mate: Self
) -> None:
    congregation = played.congregation
    member.display_name = "Ana Maria"
    member.save()
    ana = MembershipFactory.create(congregation=congregation, member__display_name="Ana").member
    conflict(played, member, crew_mate)  # Ana Maria opened it: the crew-mate is told

    erase_self(self_=ana)

    with tenant(congregation):
        (told,) = Notification.objects.filter(recipient=crew_mate, about__startswith="conflict:")
    assert told.text.startswith("Ana Maria opened a conflict")


@pytest.mark.django_db
def test_nothing_of_others_waits_on_them_once_they_left_for_good(
    played: Crew, member: Self, crew_mate: Self
) -> None:
    """A conflict and a venture that needed their confirmation let them go, as when a
    member leaves: the others are not left waiting on a Former member."""
    congregation = played.congregation
    the_conflict = conflict(played, crew_mate, member)
    the_venture = venture(congregation, crew_mate, member)

    erase_self(self_=member)

    with tenant(congregation):
        assert ConflictParty.objects.get(conflict=the_conflict, party=member).left_at
        assert CoOwner.objects.get(venture=the_venture, co_owner=member).left_at
