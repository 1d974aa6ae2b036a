"""Keep nothing longer than needed: what an invitation or an email no longer needs is
forgotten some time after it stopped mattering (the settings say how long, README says
why), and a data archive goes after its day.

Invitations and emails go through the one claim–process–mark loop, each item behind its
congregation's walls; every change makes the item no longer due, so a second run
changes nothing. Rows stay: an invitation is History's, an email's key keeps it from
being sent twice."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from congregations.models import Email, Invitation, MembershipEvent
from congregations.services.outbox import CONTENTS, forget_contents
from microsolidarity.services.batches import each_due

from ..models import DataArchive

INVITATIONS_JOB = "forget_invitation_addresses"
EMAILS_JOB = "forget_email_contents"
# An address that can never receive mail (RFC 2606 reserves .invalid), unique per
# invitation: a lapsed invitation still counts as open in the one-per-address constraint.
FORGOTTEN = "@forgotten.invalid"
INVITATION_EVENTS = [
    MembershipEvent.Action.INVITED,
    MembershipEvent.Action.REVOKED,
    MembershipEvent.Action.RESENT,
]


def forget_expired(*, now: datetime | None = None) -> int:
    """One run of the retention job; returns how many rows it changed or deleted."""
    now = now or timezone.now()
    return (
        forget_invitation_addresses(now=now)
        + forget_email_contents(now=now)
        + delete_old_archives(now=now)
    )


def forget_invitation_addresses(*, now: datetime) -> int:
    """An invitation never accepted forgets its address and note once it has been revoked
    or lapsed for PRIVACY_FORGET_INVITATIONS_AFTER."""
    before = now - settings.PRIVACY_FORGET_INVITATIONS_AFTER

    def due() -> QuerySet[Invitation]:
        return (
            Invitation.objects.filter(accepted_at__isnull=True)
            .filter(Q(revoked_at__lte=before) | Q(revoked_at__isnull=True, expires_at__lte=before))
            .exclude(email__endswith=FORGOTTEN)
        )

    return each_due(INVITATIONS_JOB, due, _forget_invitation, now=now)


def _forget_invitation(invitation: Invitation) -> int:
    address = invitation.email
    invitation.email, invitation.note = f"invitation-{invitation.pk}{FORGOTTEN}", ""
    invitation.save(update_fields=["email", "note"])
    # History keeps that someone was invited, revoked or reminded, not to which address,
    # unless another invitation of this congregation still holds it (one accepted, say).
    if not Invitation.objects.filter(
        congregation_id=invitation.congregation_id, email__iexact=address
    ).exists():
        MembershipEvent.objects.filter(
            congregation_id=invitation.congregation_id,
            email__iexact=address,
            action__in=INVITATION_EVENTS,
        ).update(email="")
    return 1


def forget_email_contents(*, now: datetime) -> int:
    """A sent (or finally failed) email forgets its address, subject, body and attachment
    PRIVACY_FORGET_EMAILS_AFTER later; its key and state stay."""
    before = now - settings.PRIVACY_FORGET_EMAILS_AFTER
    remembering = Q()
    for field in CONTENTS:
        remembering |= ~Q(**{field: ""})

    def due() -> QuerySet[Email]:
        return Email.objects.filter(Q(sent_at__lte=before) | Q(failed_at__lte=before)).filter(
            remembering
        )

    return each_due(EMAILS_JOB, due, _forget_email, now=now, process_batch=_forget_emails)


def _forget_email(email: Email) -> int:
    return forget_contents(Email.objects.filter(pk=email.pk))


def _forget_emails(emails: QuerySet[Email]) -> int:
    """A whole batch in one statement: the fast path for a month of a large site's mail."""
    claimed = list(emails.values_list("pk", flat=True))
    return forget_contents(Email.objects.filter(pk__in=claimed))


def delete_old_archives(*, now: datetime) -> int:
    """Archives past their day, downloaded or not, and any still being prepared a day
    after being asked for (its task keeps failing): a Self may ask again."""
    lifetime = settings.PRIVACY_ARCHIVE_LIFETIME
    deleted, _ = DataArchive.objects.filter(
        Q(expires_at__lte=now) | Q(ready_at__isnull=True, requested_at__lte=now - lifetime)
    ).delete()
    return deleted
