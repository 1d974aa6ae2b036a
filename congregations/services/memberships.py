"""Changing a member's role, and members leaving or being removed.

Each locks the congregation's row first, so two facilitators acting at once cannot leave
it with no facilitator.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from ..guards import require_permission
from ..models import Membership, MembershipEvent, Notification, Permission, Role, Self
from ..selectors import facilitator_count
from ..signals import membership_ended
from ..tenancy import tenant_service
from .congregations import lock_congregation, record_event


@tenant_service
@transaction.atomic
def change_role(
    *, membership: Membership, role: str, changed_by: Self, now: datetime | None = None
) -> Membership:
    """Promote a member to facilitator or make a facilitator a member again."""
    now = now or timezone.now()
    role = Role(role)
    require_permission(membership.congregation, changed_by, Permission.MANAGE)
    congregation = lock_congregation(membership.congregation)
    membership.refresh_from_db()
    if membership.left_at:
        raise ValidationError(
            gettext("%(name)s is no longer a member.") % {"name": membership.member}
        )
    if membership.role == role:
        return membership
    if role == Role.MEMBER and facilitator_count(congregation=congregation) <= 1:
        raise ValidationError(
            # Translators: a facilitator looks after the congregation (invites, settings).
            gettext("A congregation needs at least one facilitator: make someone else one first.")
        )
    membership.role = role
    membership.save(update_fields=["role"])
    action = (
        MembershipEvent.Action.PROMOTED
        if role == Role.FACILITATOR
        else MembershipEvent.Action.DEMOTED
    )
    record_event(congregation, changed_by, action, now, subject=membership.member)
    return membership


def _end(membership: Membership, actor: Self, action: str, now: datetime) -> Membership:
    congregation = lock_congregation(membership.congregation)
    membership.refresh_from_db()
    if membership.left_at:
        raise ValidationError(
            gettext("%(name)s is no longer a member.") % {"name": membership.member}
        )
    others_exist = (
        Membership.objects.current()
        .filter(congregation=congregation)
        .exclude(pk=membership.pk)
        .exists()
    )
    if (
        membership.role == Role.FACILITATOR
        and others_exist
        and facilitator_count(congregation=congregation) <= 1
    ):
        raise ValidationError(
            # Translators: a facilitator looks after the congregation (invites, settings).
            gettext("A congregation needs at least one facilitator: make someone else one first.")
        )
    membership.left_at = now
    membership.save(update_fields=["left_at"])
    record_event(congregation, actor, action, now, subject=membership.member)
    membership_ended.send(sender=Membership, membership=membership, actor=actor, now=now)
    # What they had not read of it is old news should they come back one day.
    Notification.objects.filter(
        congregation=congregation, recipient=membership.member, read_at__isnull=True
    ).update(read_at=now)
    return membership


@tenant_service
@transaction.atomic
def remove_member(
    *, membership: Membership, removed_by: Self, now: datetime | None = None
) -> Membership:
    now = now or timezone.now()
    require_permission(membership.congregation, removed_by, Permission.MANAGE)
    if membership.member_id == removed_by.pk:
        raise ValidationError(gettext("To leave the congregation yourself, use “Leave”."))
    return _end(membership, removed_by, MembershipEvent.Action.REMOVED, now)


@tenant_service
@transaction.atomic
def leave_congregation(*, membership: Membership, now: datetime | None = None) -> Membership:
    now = now or timezone.now()
    return _end(membership, membership.member, MembershipEvent.Action.LEFT, now)
