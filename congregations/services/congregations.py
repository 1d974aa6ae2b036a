"""Creating a congregation and changing its settings, and what every change to who belongs
shares: the congregation's lock and its membership history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_lazy

from ..accounts import has_second_factor
from ..guards import require_permission
from ..history import Detail, setting_changed
from ..models import Congregation, Membership, MembershipEvent, Permission, Role, Self
from ..request_keys import replayed, stored
from ..selectors import congregation_size
from ..tenancy import tenant, tenant_service

# Each setting a facilitator may change, with its label on the settings form and in History.
# Translators: a crew is a small group of 3–8 people who meet about once a month (the
# proposal's "Crew"); a facilitator looks after the congregation.
SETTINGS_LABELS = {
    "name": gettext_lazy("Name"),
    "purpose": gettext_lazy("Purpose"),
    "invitation_quota": gettext_lazy("Invitations each member may send"),
    "soft_size_threshold": gettext_lazy("Size at which to think about splitting"),
    "hard_size_cap": gettext_lazy("Most people, pending invitations included"),
    "invitation_lifetime_days": gettext_lazy("Days an invitation link works"),
    "meeting_grace_hours": gettext_lazy("Hours after a meeting's start to log it"),
    "conflict_deadline_days": gettext_lazy("Days to resolve a conflict"),
    "reminder_lead_hours": gettext_lazy("Hours before a meeting to remind its crew"),
    "timezone": gettext_lazy("Timezone"),
    "facilitators_need_second_factor": gettext_lazy("Facilitators need a second factor"),
}
SETTINGS_FIELDS = tuple(SETTINGS_LABELS)


def lock_congregation(congregation: Congregation) -> Congregation:
    # NO KEY: rows that merely reference the congregation (every tenant row does) are
    # still written meanwhile; only other changes to membership wait.
    return Congregation.objects.select_for_update(no_key=True).get(pk=congregation.pk)


def record_event(
    congregation: Congregation,
    actor: Self,
    action: str,
    now: datetime,
    subject: Self | None = None,
    email: str = "",
    details: list[Detail] | None = None,
) -> None:
    """One line of History; ``details`` say what it did beyond its action
    (congregations.history)."""
    MembershipEvent.objects.create(
        congregation=congregation,
        actor=actor,
        subject=subject,
        email=email,
        action=action,
        details=details or [],
        at=now,
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
        # Its facilitator's clock, until they choose another on the settings page.
        timezone=facilitator.timezone,
    )
    for field, value in settings_.items():
        setattr(congregation, field, value)
    congregation.full_clean()
    congregation.save()
    with tenant(congregation):
        Membership.objects.create(
            congregation=congregation, member=facilitator, role=Role.FACILITATOR, joined_at=now
        )
        record_event(
            congregation, facilitator, MembershipEvent.Action.CREATED, now, subject=facilitator
        )
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
    require_permission(congregation, changed_by, Permission.MANAGE)
    congregation = lock_congregation(congregation)
    asked_before = congregation.facilitators_need_second_factor
    before = {field: getattr(congregation, field) for field in SETTINGS_FIELDS}
    for field, value in values.items():
        if field not in SETTINGS_FIELDS:
            raise ValidationError(f"Unknown congregation setting: {field}.")
        setattr(congregation, field, value)
    asking_now = congregation.facilitators_need_second_factor and not asked_before
    if asking_now and not has_second_factor(changed_by):
        # Asking it of the others while not having one would stop the asker at once.
        raise ValidationError(
            {
                "facilitators_need_second_factor": gettext(
                    "Add a second factor to your own account "
                    "first (a passkey or an authenticator app, on your profile), then ask it of "
                    "the other facilitators."
                )
            }
        )
    congregation.full_clean()
    size = congregation_size(congregation=congregation, now=now)
    if congregation.hard_size_cap < size.occupancy:
        raise ValidationError(
            {
                "hard_size_cap": gettext(
                    "%(congregation)s has %(members)s members and %(pending)s pending "
                    "invitations: the cap cannot be lower than %(occupancy)s. Revoke "
                    "invitations first to lower it further."
                )
                % {
                    "congregation": congregation.name,
                    "members": size.members,
                    "pending": size.pending,
                    "occupancy": size.occupancy,
                }
            }
        )
    changes = [
        setting_changed(field, old, getattr(congregation, field))
        for field, old in before.items()
        if getattr(congregation, field) != old
    ]
    if not changes:  # saved as they were: History would say "settings changed" and nothing
        return congregation
    congregation.save()
    record_event(congregation, changed_by, MembershipEvent.Action.SETTINGS, now, details=changes)
    return congregation
