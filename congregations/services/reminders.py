"""The one friendly reminder to someone who has not yet answered an invitation, a few
days before its link lapses (``REMIND_BEFORE_EXPIRY``)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from microsolidarity.enqueue import enqueue_after_commit
from microsolidarity.services.batches import each_due

from .. import tasks
from ..models import REMIND_BEFORE_EXPIRY, Invitation
from ..selectors import invitation_url
from ..tokens import new_token
from .invitations import invitation_language
from .outbox import Outgoing, queue_emails


def remind_invitations(*, now: datetime | None = None) -> int:
    """Queue the reminder of every pending invitation whose link lapses within
    ``REMIND_BEFORE_EXPIRY`` and lived at least as long again, once; returns how many.
    An invitation that was never emailed (loaded data), or whose email could not be
    delivered, is not reminded: nobody is there to read it."""
    now = now or timezone.now()

    def due() -> QuerySet[Invitation]:
        return Invitation.objects.filter(
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            reminded_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=now + REMIND_BEFORE_EXPIRY,
            expires_at__gte=F("sent_at") + 2 * REMIND_BEFORE_EXPIRY,
            sent_email__isnull=False,
            sent_email__failed_at__isnull=True,
        ).select_related("congregation", "invited_by")

    reminded = each_due("remind_invitations", due, partial(_remind, now=now), now=now)
    if reminded:
        enqueue_after_commit(tasks.send_emails)
    return reminded


def _remind(invitation: Invitation, *, now: datetime) -> int:
    """Only the link's hash is kept, so the reminder carries a fresh link; the first one
    keeps working beside it until the same expiry."""
    token, token_hash = new_token()
    invitation.earlier_token_hash, invitation.token_hash = invitation.token_hash, token_hash
    invitation.reminded_at = now
    invitation.save(update_fields=["earlier_token_hash", "token_hash", "reminded_at"])
    inviter = invitation.invited_by
    queue_emails(
        [
            Outgoing(
                congregation_id=invitation.congregation_id,
                address=invitation.email,
                key=f"invitation-reminder:{invitation.pk}:{invitation.sent_at:%Y%m%dT%H%M%S.%f}",
                subject=format_lazy(
                    gettext_lazy("A reminder: {inviter} invites you to {congregation}"),
                    inviter=str(inviter),
                    congregation=invitation.congregation.name,
                ),
                template="congregations/email/invitation_reminder.txt",
                context={"invitation": invitation, "url": invitation_url(token)},
                # A job has no page: the inviter's language stands in for theirs as they sent it.
                language=invitation_language(invitation.email, otherwise=inviter.email_language),
            )
        ],
        now=now,
    )
    return 1
