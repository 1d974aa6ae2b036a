"""Inviting people into a congregation, and their joining through the emailed link.

Functions that change who belongs lock the congregation's row first, so two facilitators
acting at once cannot invite it past its cap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy, ngettext

from microsolidarity.enqueue import enqueue_after_commit

from .. import tasks
from ..guards import require_permission
from ..models import (
    EMAIL_LENGTH,
    Congregation,
    Email,
    Invitation,
    Membership,
    MembershipEvent,
    Permission,
    Role,
    Self,
)
from ..request_keys import check_request_key, replayed, stored
from ..selectors import (
    congregation_size,
    current_membership,
    current_memberships,
    invitation_url,
    invitations_left,
    named_by,
)
from ..tenancy import across_congregations, tenant, tenant_service
from ..tokens import new_token
from ..validators import deliverable_address
from .congregations import lock_congregation, record_event
from .outbox import Outgoing, queue_emails

INVALID_INVITATION = gettext_lazy(
    "This invitation link does not work. It may have expired, been revoked or used "
    "already, or it was sent to another email address. Ask the person who invited you "
    "for a new one."
)


def _require_room(congregation: Congregation, membership: Membership, now: datetime) -> None:
    """Refuse one more pending invitation past the member's quota or the hard cap. The caller
    holds the congregation's lock."""
    if invitations_left(membership=membership, now=now) == 0:
        quota = congregation.invitation_quota
        raise ValidationError(
            # Translators: a facilitator looks after the congregation and invites beyond quotas.
            ngettext(
                "You have used your one invitation. A facilitator can invite more people.",
                "You have used all %(quota)d of your invitations. "
                "A facilitator can invite more people.",
                quota,
            )
            % {"quota": quota}
        )
    if congregation_size(congregation=congregation, now=now).at_cap:
        raise ValidationError(
            gettext(
                "%(congregation)s has reached its cap of %(cap)s people, counting members and "
                "pending invitations. It may be time to split in two."
            )
            % {"congregation": congregation.name, "cap": congregation.hard_size_cap}
        )


def invitation_language(email: str, *, otherwise: str = "") -> str:
    """The language an invitation to ``email`` is written in: that of the Self the address
    already belongs to (invited to one more congregation), else ``otherwise``, else the
    language active as it is sent (the inviter's, on their page): the best guess of a
    stranger's."""
    self_ = Self.objects.filter(email=Self.objects.normalize_email(email)).first()
    if self_ is not None:
        return self_.email_language
    return otherwise or translation.get_language() or settings.LANGUAGE_CODE


def _send_invitation(invitation: Invitation, token: str, now: datetime) -> None:
    """Queue the link's email in the outbox, in this transaction: no email for a rolled-back
    invitation, and one that cannot be delivered is retried, then shown as failed on the
    invitations page (and stops counting against the quota and the cap)."""
    key = f"invitation:{invitation.pk}:{invitation.sent_at:%Y%m%dT%H%M%S.%f}"
    queue_emails(
        [
            Outgoing(
                congregation_id=invitation.congregation_id,
                address=invitation.email,
                key=key,
                subject=format_lazy(
                    gettext_lazy("{inviter} invites you to {congregation}"),
                    inviter=str(invitation.invited_by),
                    congregation=invitation.congregation.name,
                ),
                template="congregations/email/invitation.txt",
                context={"invitation": invitation, "url": invitation_url(token)},
                language=invitation_language(invitation.email),
            )
        ],
        now=now,
    )
    invitation.sent_email = Email.objects.get(congregation_id=invitation.congregation_id, key=key)
    invitation.save(update_fields=["sent_email"])
    enqueue_after_commit(tasks.send_emails)


@tenant_service
@transaction.atomic
def invite(
    *,
    congregation: Congregation,
    email: str,
    invited_by: Self,
    note: str = "",
    send_email: bool = True,
    request_key: str = "",
    now: datetime | None = None,
) -> tuple[Invitation, str]:
    """Invite ``email``; returns the invitation and the token its emailed link carries.
    ``send_email=False`` is for loading data whose people are not really there. A repeated
    form (the same ``request_key``) that invited this address already gets that invitation
    back with an empty token: its link went out, once, with the first submission."""
    now = now or timezone.now()
    email = Self.objects.normalize_email(email)
    if len(email) > EMAIL_LENGTH:  # validate_email lets these through; the column does not
        raise ValidationError(
            {
                "email": gettext(
                    "An email address has at most %(most)s characters, not %(length)s."
                )
                % {"most": EMAIL_LENGTH, "length": len(email)}
            }
        )
    try:
        validate_email(email)
        deliverable_address(email)
    except ValidationError:
        raise ValidationError(
            {"email": gettext("“%(email)s” is not an email address.") % {"email": email}}
        ) from None
    membership = require_permission(congregation, invited_by, Permission.INVITE)
    congregation = lock_congregation(congregation)
    if earlier := replayed(
        Invitation, request_key, congregation, per={"email": email}, invited_by=invited_by
    ):
        return earlier, ""
    if Membership.objects.current().filter(congregation=congregation, member__email=email).exists():
        raise ValidationError(
            {"email": gettext("%(email)s is already a member.") % {"email": email}}
        )
    open_invitation = Invitation.objects.filter(
        congregation=congregation,
        email__iexact=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).first()
    if open_invitation and open_invitation.expires_at > now:
        raise ValidationError(
            {
                "email": gettext("%(email)s has been invited already and not yet answered.")
                % {"email": email}
            }
        )
    _require_room(congregation, membership, now)
    token, token_hash = new_token()
    if open_invitation:  # expired: renew it rather than keep two
        invitation = open_invitation
        invitation.invited_by, invitation.note = invited_by, note
        invitation.token_hash, invitation.sent_at = token_hash, now
        invitation.earlier_token_hash, invitation.reminded_at = None, None
        invitation.expires_at = now + congregation.invitation_lifetime
        invitation.request_key = stored(request_key)
    else:
        invitation = Invitation(
            congregation=congregation,
            email=email,
            invited_by=invited_by,
            note=note,
            token_hash=token_hash,
            created_at=now,
            sent_at=now,
            expires_at=now + congregation.invitation_lifetime,
            request_key=stored(request_key),
        )
    # The note's length; the open-invitation constraint was checked above in plain words.
    invitation.full_clean(validate_unique=False, validate_constraints=False)
    invitation.save()
    record_event(congregation, invited_by, MembershipEvent.Action.INVITED, now, email=email)
    if send_email:
        _send_invitation(invitation, token, now)
    return invitation, token


@dataclass(frozen=True)
class InvitationOutcome:
    """What became of one address of a batch: an invitation, or why there is none."""

    email: str
    invitation: Invitation | None = None
    refusal: str = ""


def invite_each(
    *,
    congregation: Congregation,
    emails: Iterable[str],
    invited_by: Self,
    note: str = "",
    request_key: str = "",
    now: datetime | None = None,
) -> list[InvitationOutcome]:
    """Invite every address on its own, in its own transaction: a refused address (not an
    address, a member already, past the quota or the cap) does not stop the others. The
    batch form's ``request_key`` goes with each address, so a repeated batch reports what
    the first made of each, not that each has been invited already."""
    if request_key:
        # Checked once, so a stale form is one refusal rather than one per address.
        check_request_key(request_key, congregation)
    outcomes = []
    for email in emails:
        try:
            invitation, _ = invite(
                congregation=congregation,
                email=email,
                invited_by=invited_by,
                note=note,
                request_key=request_key,
                now=now,
            )
        except ValidationError as error:
            outcomes.append(InvitationOutcome(email, refusal=" ".join(error.messages)))
        else:
            outcomes.append(InvitationOutcome(email, invitation=invitation))
    return outcomes


def _require_can_handle(invitation: Invitation, self_: Self) -> Membership:
    """Facilitators handle every invitation; a member handles the ones they sent."""
    membership = require_permission(invitation.congregation, self_, Permission.INVITE)
    if invitation.invited_by_id != self_.pk and not membership.can(Permission.MANAGE):
        raise ValidationError(
            # Translators: a facilitator looks after the congregation: invites, removes, settings.
            gettext("Only a facilitator or the person who sent it can do that.")
        )
    return membership


@tenant_service
@transaction.atomic
def resend_invitation(
    *, invitation: Invitation, resent_by: Self, now: datetime | None = None
) -> tuple[Invitation, str]:
    """A new link with a new expiry; the old link stops working. An expired invitation no
    longer counts against the quota and the cap, so renewing one must fit in both again."""
    now = now or timezone.now()
    membership = _require_can_handle(invitation, resent_by)
    congregation = lock_congregation(invitation.congregation)
    invitation.refresh_from_db()
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(
            gettext("Only an invitation that has not been answered can be resent.")
        )
    if invitation.status_at(now) == Invitation.Status.EXPIRED:
        _require_room(congregation, membership, now)
    token, invitation.token_hash = new_token()
    # Every earlier link stops working; the new one lives its own time, with its reminder.
    invitation.earlier_token_hash, invitation.reminded_at = None, None
    invitation.sent_at = now
    invitation.expires_at = now + congregation.invitation_lifetime
    invitation.save(
        update_fields=["token_hash", "earlier_token_hash", "reminded_at", "sent_at", "expires_at"]
    )
    record_event(
        congregation,
        resent_by,
        MembershipEvent.Action.RESENT,
        now,
        email=invitation.email,
    )
    _send_invitation(invitation, token, now)
    return invitation, token


@tenant_service
@transaction.atomic
def revoke_invitation(
    *, invitation: Invitation, revoked_by: Self, now: datetime | None = None
) -> Invitation:
    now = now or timezone.now()
    _require_can_handle(invitation, revoked_by)
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(gettext("This invitation has been answered or revoked already."))
    return _revoke(invitation, revoked_by, now)


def _revoke(invitation: Invitation, revoked_by: Self, now: datetime) -> Invitation:
    invitation.revoked_at = now
    invitation.save(update_fields=["revoked_at"])
    record_event(
        invitation.congregation,
        revoked_by,
        MembershipEvent.Action.REVOKED,
        now,
        email=invitation.email,
    )
    return invitation


@transaction.atomic
def withdraw_invitations_sent_by(*, self_: Self, now: datetime | None = None) -> int:
    """Revoke every invitation the Self sent that is still open (expired ones too, which
    a facilitator could otherwise resend), in every congregation, those they have left
    included: they are leaving for good. Returns how many."""
    now = now or timezone.now()
    with across_congregations():
        sent = list(
            Invitation.objects.filter(
                invited_by=self_, accepted_at__isnull=True, revoked_at__isnull=True
            ).select_related("congregation")
        )
    for invitation in sent:
        with tenant(invitation):
            _revoke(invitation, self_, now)
    return len(sent)


def _lock_invitation(token: str) -> Invitation | None:
    """The invitation the token names, whatever its state, locked: two uses of one link
    take turns."""
    with across_congregations():
        return Invitation.objects.select_for_update().filter(named_by(token)).first()


def _pending(invitation: Invitation | None, now: datetime) -> Invitation:
    if invitation is None or invitation.status_at(now) != Invitation.Status.PENDING:
        raise ValidationError(INVALID_INVITATION)
    return invitation


def _accept(invitation: Invitation, self_: Self, now: datetime, request_key: str) -> Membership:
    if invitation.email.lower() != self_.email.lower():
        raise ValidationError(INVALID_INVITATION)
    congregation = lock_congregation(invitation.congregation)
    if current_membership(congregation=congregation, self_=self_):
        raise ValidationError(
            gettext("You are already a member of %(congregation)s.")
            % {"congregation": congregation.name}
        )
    # This invitation is counted against the cap already: accepting turns it from pending
    # into a member, so only members who fill the cap by themselves leave no room for it
    # (invitations sent before the cap was lowered, say). The lock makes concurrent
    # acceptances count one at a time.
    if current_memberships(congregation=congregation).count() >= congregation.hard_size_cap:
        raise ValidationError(
            gettext(
                "%(congregation)s is full: it has reached its cap of %(cap)s members, so this "
                "invitation cannot be accepted now. %(inviter)s can ask a facilitator to make "
                "room."
            )
            % {
                "congregation": congregation.name,
                "cap": congregation.hard_size_cap,
                "inviter": invitation.invited_by,
            }
        )
    invitation.accepted_at, invitation.accepted_by = now, self_
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    membership = Membership.objects.create(
        congregation=congregation,
        member=self_,
        role=Role.MEMBER,
        joined_at=now,
        request_key=stored(request_key),
    )
    record_event(congregation, self_, MembershipEvent.Action.JOINED, now, subject=self_)
    return membership


@transaction.atomic
def accept_invitation(*, token: str, self_: Self, now: datetime | None = None) -> Membership:
    """Join the congregation the token's invitation is for. The invitation is bound to the
    address it was sent to: a Self signed in with another address cannot use it."""
    now = now or timezone.now()
    invitation = _pending(_lock_invitation(token), now)
    with tenant(invitation):
        return _accept(invitation, self_, now, "")


def _signed_up(invitation: Invitation, request_key: str, password: str) -> Membership | None:
    """The membership an earlier submission of this sign-up form made, when this is the
    same form again: its key, and the password it carries is the account's (so whoever
    sends it could sign in anyway)."""
    if invitation.accepted_by is None:
        return None
    earlier = replayed(
        Membership, request_key, invitation.congregation, member=invitation.accepted_by
    )
    if earlier is None or not earlier.member.check_password(password):
        return None
    return earlier


@transaction.atomic
def sign_up_with_invitation(
    *,
    token: str,
    display_name: str,
    password: str,
    request_key: str = "",
    now: datetime | None = None,
) -> Membership:
    """Create the invited person's account and accept the invitation, all or nothing. The
    same form sent again (the same ``request_key`` and password: a double click, a reload,
    a retry) gets the membership the first made, so it signs the person in."""
    now = now or timezone.now()
    found = _lock_invitation(token)
    if found is not None:
        with tenant(found):
            if earlier := _signed_up(found, request_key, password):
                return earlier
    invitation = _pending(found, now)
    if Self.objects.filter(email=invitation.email).exists():
        raise ValidationError(
            gettext("You already have an account: sign in to accept the invitation.")
        )
    self_ = Self(email=invitation.email, display_name=display_name.strip(), date_joined=now)
    self_.set_password(password)
    self_.full_clean()
    try:
        with transaction.atomic():
            self_.save()
    except IntegrityError:  # the same person signing up twice at once
        raise ValidationError(
            gettext("You already have an account: sign in to accept the invitation.")
        ) from None
    # The single-use link reached this address: it is verified, and the account's own.
    EmailAddress.objects.create(user=self_, email=self_.email, primary=True, verified=True)
    with tenant(invitation):
        return _accept(invitation, self_, now, request_key)
