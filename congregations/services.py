"""Every change to congregations, memberships and invitations goes through here.

Each function validates before it writes, runs in one transaction, and raises
``ValidationError`` with a message a person can read, changing nothing. Functions that
change who belongs lock the congregation's row first, so two facilitators acting at once
cannot leave it with no facilitator or invite it past its cap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django_scopes import scopes_disabled

from microsolidarity.enqueue import enqueue_after_commit

from .models import (
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
from .outbox import Outgoing, queue_emails
from .request_keys import check_request_key, replayed, stored
from .selectors import congregation_size, current_memberships
from .signals import membership_ended
from .tasks import send_emails
from .tenancy import tenant_service
from .tokens import hash_token, new_token

INVALID_INVITATION = (
    "This invitation link does not work. It may have expired, been revoked or used "
    "already, or it was sent to another email address. Ask the person who invited you "
    "for a new one."
)

SETTINGS_FIELDS = (
    "name",
    "purpose",
    "invitation_quota",
    "soft_size_threshold",
    "hard_size_cap",
    "invitation_lifetime_days",
    "meeting_grace_hours",
    "conflict_deadline_days",
    "reminder_lead_hours",
)


def _lock(congregation: Congregation) -> Congregation:
    # NO KEY: rows that merely reference the congregation (every tenant row does) are
    # still written meanwhile; only other changes to membership wait.
    return Congregation.objects.select_for_update(no_key=True).get(pk=congregation.pk)


def _current_membership(congregation: Congregation, self_: Self) -> Membership | None:
    with scopes_disabled():
        return Membership.objects.current().filter(congregation=congregation, member=self_).first()


def _record(
    congregation: Congregation,
    actor: Self,
    action: str,
    now: datetime,
    subject: Self | None = None,
    email: str = "",
) -> None:
    MembershipEvent.objects.create(
        congregation=congregation, actor=actor, subject=subject, email=email, action=action, at=now
    )


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "congregation"
    slug, n = base, 1
    while Congregation.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_congregation(
    *,
    name: str,
    facilitator: Self,
    request_key: str = "",
    now: datetime | None = None,
    **settings_: Any,
) -> Congregation:
    """A new congregation with ``facilitator`` as its first facilitator. A repeated form
    (the same ``request_key``, which names the facilitator) gets the congregation its
    first submission started."""
    now = now or timezone.now()
    unknown = set(settings_) - set(SETTINGS_FIELDS) - {"slug"}
    if unknown:
        raise ValidationError(f"Unknown congregation settings: {', '.join(sorted(unknown))}.")
    # One Self's starts take turns, so a repeated form finds what the first one started.
    # NO KEY UPDATE: rows that merely reference the Self are still written meanwhile.
    Self.objects.select_for_update(no_key=True).get(pk=facilitator.pk)
    if earlier := replayed(Congregation, request_key, facilitator):
        return earlier
    name = (name or "").strip()
    congregation = Congregation(
        name=name,
        slug=settings_.pop("slug", None) or _unique_slug(name),
        created_at=now,
        request_key=stored(request_key),
    )
    for field, value in settings_.items():
        setattr(congregation, field, value)
    congregation.full_clean()
    congregation.save()
    Membership.objects.create(
        congregation=congregation, member=facilitator, role=Role.FACILITATOR, joined_at=now
    )
    _record(congregation, facilitator, MembershipEvent.Action.CREATED, now, subject=facilitator)
    return congregation


@tenant_service
@transaction.atomic
def update_settings(
    *, congregation: Congregation, changed_by: Self, now: datetime | None = None, **values: Any
) -> Congregation:
    """Change a congregation's name, purpose, size thresholds, quotas and clocks, each
    within the bounds its model field states. The cap never falls below the people already
    counted against it, members and pending invitations: the lock keeps any from joining
    or being invited meanwhile."""
    now = now or timezone.now()
    _require(congregation, changed_by, Permission.MANAGE)
    congregation = _lock(congregation)
    for field, value in values.items():
        if field not in SETTINGS_FIELDS:
            raise ValidationError(f"Unknown congregation setting: {field}.")
        setattr(congregation, field, value)
    congregation.full_clean()
    size = congregation_size(congregation=congregation, now=now)
    if congregation.hard_size_cap < size.occupancy:
        raise ValidationError(
            {
                "hard_size_cap": f"{congregation.name} has {size.members} members and "
                f"{size.pending} pending invitations: the cap cannot be lower than "
                f"{size.occupancy}. Revoke invitations first to lower it further."
            }
        )
    congregation.save()
    _record(congregation, changed_by, MembershipEvent.Action.SETTINGS, now)
    return congregation


def _require(congregation: Congregation, self_: Self, permission: Permission) -> Membership:
    membership = _current_membership(congregation, self_)
    if membership is None or not membership.can(permission):
        raise ValidationError(f"Only those who may {permission.label} can do that.")
    return membership


def invitations_left(*, membership: Membership, now: datetime | None = None) -> int | None:
    """How many more people this member may invite; None for no limit (facilitators)."""
    now = now or timezone.now()
    if membership.can(Permission.INVITE_UNLIMITED):
        return None
    with scopes_disabled():
        used = (
            Invitation.objects.filter(
                congregation_id=membership.congregation_id, invited_by_id=membership.member_id
            )
            .filter(Q(accepted_at__isnull=False) | Q(revoked_at__isnull=True, expires_at__gt=now))
            # An invitation whose email could never be delivered spends nothing.
            .exclude(accepted_at__isnull=True, sent_email__failed_at__isnull=False)
            .count()
        )
    return max(membership.congregation.invitation_quota - used, 0)


def _require_room(congregation: Congregation, membership: Membership, now: datetime) -> None:
    """Refuse one more pending invitation past the member's quota or the hard cap. The caller
    holds the congregation's lock."""
    if invitations_left(membership=membership, now=now) == 0:
        raise ValidationError(
            f"You have used all {congregation.invitation_quota} of your invitations. "
            "A facilitator can invite more people."
        )
    if congregation_size(congregation=congregation, now=now).at_cap:
        raise ValidationError(
            f"{congregation.name} has reached its cap of {congregation.hard_size_cap} people, "
            "counting members and pending invitations. It may be time to split in two."
        )


def invitation_url(token: str) -> str:
    return settings.SITE_URL + reverse("invitation", kwargs={"token": token})


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
                subject=f"{invitation.invited_by} invites you to {invitation.congregation.name}",
                template="congregations/email/invitation.txt",
                context={"invitation": invitation, "url": invitation_url(token)},
            )
        ],
        now=now,
    )
    invitation.sent_email = Email.objects.get(congregation_id=invitation.congregation_id, key=key)
    invitation.save(update_fields=["sent_email"])
    enqueue_after_commit(send_emails)


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
            {"email": f"An email address has at most {EMAIL_LENGTH} characters, not {len(email)}."}
        )
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": f"“{email}” is not an email address."}) from None
    membership = _require(congregation, invited_by, Permission.INVITE)
    congregation = _lock(congregation)
    if earlier := replayed(
        Invitation, request_key, congregation, per={"email": email}, invited_by=invited_by
    ):
        return earlier, ""
    with scopes_disabled():
        if (
            Membership.objects.current()
            .filter(congregation=congregation, member__email=email)
            .exists()
        ):
            raise ValidationError({"email": f"{email} is already a member."})
        open_invitation = Invitation.objects.filter(
            congregation=congregation,
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        ).first()
    if open_invitation and open_invitation.expires_at > now:
        raise ValidationError({"email": f"{email} has been invited already and not yet answered."})
    _require_room(congregation, membership, now)
    token, token_hash = new_token()
    if open_invitation:  # expired: renew it rather than keep two
        invitation = open_invitation
        invitation.invited_by, invitation.note = invited_by, note
        invitation.token_hash, invitation.sent_at = token_hash, now
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
    _record(congregation, invited_by, MembershipEvent.Action.INVITED, now, email=email)
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
    membership = _require(invitation.congregation, self_, Permission.INVITE)
    if invitation.invited_by_id != self_.pk and not membership.can(Permission.MANAGE):
        raise ValidationError("Only a facilitator or the person who sent it can do that.")
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
    congregation = _lock(invitation.congregation)
    invitation.refresh_from_db()
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError("Only an invitation that has not been answered can be resent.")
    if invitation.status_at(now) == Invitation.Status.EXPIRED:
        _require_room(congregation, membership, now)
    token, invitation.token_hash = new_token()
    invitation.sent_at = now
    invitation.expires_at = now + congregation.invitation_lifetime
    invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
    _record(
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
        raise ValidationError("This invitation has been answered or revoked already.")
    invitation.revoked_at = now
    invitation.save(update_fields=["revoked_at"])
    _record(
        invitation.congregation,
        revoked_by,
        MembershipEvent.Action.REVOKED,
        now,
        email=invitation.email,
    )
    return invitation


def open_invitation(token: str, *, now: datetime | None = None) -> Invitation | None:
    """The pending invitation a link's token names, or None for any link that does not work."""
    now = now or timezone.now()
    with scopes_disabled():
        invitation = (
            Invitation.objects.select_related("congregation", "invited_by")
            .filter(token_hash=hash_token(token or ""))
            .first()
        )
    if invitation is None or invitation.status_at(now) != Invitation.Status.PENDING:
        return None
    return invitation


def joined_with(token: str, *, self_: Self) -> Congregation | None:
    """The congregation ``self_`` joined through this invitation link, if they did: the
    link's page sends them in rather than saying it no longer works."""
    with scopes_disabled():
        invitation = (
            Invitation.objects.select_related("congregation")
            .filter(token_hash=hash_token(token or ""), accepted_by=self_)
            .first()
        )
    return invitation.congregation if invitation else None


def _lock_invitation(token: str) -> Invitation | None:
    """The invitation the token names, whatever its state, locked: two uses of one link
    take turns."""
    with scopes_disabled():
        return (
            Invitation.objects.select_for_update()
            .filter(token_hash=hash_token(token or ""))
            .first()
        )


def _pending(invitation: Invitation | None, now: datetime) -> Invitation:
    if invitation is None or invitation.status_at(now) != Invitation.Status.PENDING:
        raise ValidationError(INVALID_INVITATION)
    return invitation


def _accept(invitation: Invitation, self_: Self, now: datetime, request_key: str) -> Membership:
    if invitation.email.lower() != self_.email.lower():
        raise ValidationError(INVALID_INVITATION)
    congregation = _lock(invitation.congregation)
    if _current_membership(congregation, self_):
        raise ValidationError(f"You are already a member of {congregation.name}.")
    # This invitation is counted against the cap already: accepting turns it from pending
    # into a member, so only members who fill the cap by themselves leave no room for it
    # (invitations sent before the cap was lowered, say). The lock makes concurrent
    # acceptances count one at a time.
    if current_memberships(congregation=congregation).count() >= congregation.hard_size_cap:
        raise ValidationError(
            f"{congregation.name} is full: it has reached its cap of "
            f"{congregation.hard_size_cap} members, so this invitation cannot be accepted "
            f"now. {invitation.invited_by} can ask a facilitator to make room."
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
    _record(congregation, self_, MembershipEvent.Action.JOINED, now, subject=self_)
    return membership


@transaction.atomic
def accept_invitation(*, token: str, self_: Self, now: datetime | None = None) -> Membership:
    """Join the congregation the token's invitation is for. The invitation is bound to the
    address it was sent to: a Self signed in with another address cannot use it."""
    now = now or timezone.now()
    return _accept(_pending(_lock_invitation(token), now), self_, now, "")


def _signed_up(invitation: Invitation, request_key: str, password: str) -> Membership | None:
    """The membership an earlier submission of this sign-up form made, when this is the
    same form again: its key, and the password it carries is the account's (so whoever
    sends it could sign in anyway)."""
    if invitation.accepted_by is None:
        return None
    with scopes_disabled():
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
    if found is not None and (earlier := _signed_up(found, request_key, password)):
        return earlier
    invitation = _pending(found, now)
    if Self.objects.filter(email=invitation.email).exists():
        raise ValidationError("You already have an account: sign in to accept the invitation.")
    self_ = Self(email=invitation.email, display_name=display_name.strip(), date_joined=now)
    self_.set_password(password)
    self_.full_clean()
    try:
        with transaction.atomic():
            self_.save()
    except IntegrityError:  # the same person signing up twice at once
        raise ValidationError(
            "You already have an account: sign in to accept the invitation."
        ) from None
    return _accept(invitation, self_, now, request_key)


def _facilitator_count(congregation: Congregation) -> int:
    with scopes_disabled():
        return (
            Membership.objects.current()
            .filter(congregation=congregation, role=Role.FACILITATOR)
            .count()
        )


@tenant_service
@transaction.atomic
def change_role(
    *, membership: Membership, role: str, changed_by: Self, now: datetime | None = None
) -> Membership:
    """Promote a member to facilitator or make a facilitator a member again."""
    now = now or timezone.now()
    role = Role(role)
    _require(membership.congregation, changed_by, Permission.MANAGE)
    congregation = _lock(membership.congregation)
    membership.refresh_from_db()
    if membership.left_at:
        raise ValidationError(f"{membership.member} is no longer a member.")
    if membership.role == role:
        return membership
    if role == Role.MEMBER and _facilitator_count(congregation) <= 1:
        raise ValidationError(
            "A congregation needs at least one facilitator: make someone else one first."
        )
    membership.role = role
    membership.save(update_fields=["role"])
    action = (
        MembershipEvent.Action.PROMOTED
        if role == Role.FACILITATOR
        else MembershipEvent.Action.DEMOTED
    )
    _record(congregation, changed_by, action, now, subject=membership.member)
    return membership


def _end(membership: Membership, actor: Self, action: str, now: datetime) -> Membership:
    congregation = _lock(membership.congregation)
    membership.refresh_from_db()
    if membership.left_at:
        raise ValidationError(f"{membership.member} is no longer a member.")
    with scopes_disabled():
        others_exist = (
            Membership.objects.current()
            .filter(congregation=congregation)
            .exclude(pk=membership.pk)
            .exists()
        )
    if (
        membership.role == Role.FACILITATOR
        and others_exist
        and _facilitator_count(congregation) <= 1
    ):
        raise ValidationError(
            "A congregation needs at least one facilitator: make someone else one first."
        )
    membership.left_at = now
    membership.save(update_fields=["left_at"])
    _record(congregation, actor, action, now, subject=membership.member)
    membership_ended.send(sender=Membership, membership=membership, now=now)
    return membership


@tenant_service
@transaction.atomic
def remove_member(
    *, membership: Membership, removed_by: Self, now: datetime | None = None
) -> Membership:
    now = now or timezone.now()
    _require(membership.congregation, removed_by, Permission.MANAGE)
    if membership.member_id == removed_by.pk:
        raise ValidationError("To leave the congregation yourself, use “Leave”.")
    return _end(membership, removed_by, MembershipEvent.Action.REMOVED, now)


@tenant_service
@transaction.atomic
def leave_congregation(*, membership: Membership, now: datetime | None = None) -> Membership:
    now = now or timezone.now()
    return _end(membership, membership.member, MembershipEvent.Action.LEFT, now)


PROFILE_FIELDS = ("display_name", "timezone", "paid_work", "meaningful_work", "reminders_enabled")


@transaction.atomic
def update_profile(*, self_: Self, **values: Any) -> Self:
    """Change what a Self tells the congregation about themselves. On a refusal ``self_``
    keeps its old values: it is often ``request.user``, which the page still shows."""
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown profile fields: {', '.join(sorted(unknown))}.")
    before = {field: getattr(self_, field) for field in values}
    for field, value in values.items():
        setattr(self_, field, value)
    try:
        self_.full_clean(exclude=["password"])
    except ValidationError:
        for field, value in before.items():
            setattr(self_, field, value)
        raise
    self_.save(update_fields=list(values))
    return self_
