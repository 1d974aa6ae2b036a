"""Read-only queries about congregations and memberships.

Each takes the congregation (or a membership in it) explicitly and filters by it, so they
run the same inside a request's scope and from a shell or a task."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django_scopes import scopes_disabled

from .models import Congregation, Invitation, Membership, MembershipEvent, Permission, Self


def memberships_of(*, self_: Self) -> QuerySet[Membership]:
    """The Self's current memberships, across every congregation they belong to."""
    with scopes_disabled():
        return (
            Membership.objects.current()
            .filter(member=self_)
            .select_related("congregation")
            .order_by("congregation__name")
        )


def current_memberships(*, congregation: Congregation) -> QuerySet[Membership]:
    """Everyone in the congregation now, by name."""
    with scopes_disabled():
        return (
            Membership.objects.current()
            .filter(congregation=congregation)
            .select_related("member")
            .order_by("member__display_name", "pk")
        )


def pending_invitations(*, congregation: Congregation, now: datetime) -> QuerySet[Invitation]:
    with scopes_disabled():
        return Invitation.objects.filter(
            congregation=congregation,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).exclude(sent_email__failed_at__isnull=False)  # never delivered: nobody is coming


def visible_invitations(*, membership: Membership) -> QuerySet[Invitation]:
    """Facilitators see every invitation of the congregation; a member sees the ones they sent."""
    with scopes_disabled():
        invitations = Invitation.objects.filter(
            congregation_id=membership.congregation_id
        ).select_related("invited_by", "sent_email")
    if not membership.can(Permission.MANAGE):
        invitations = invitations.filter(invited_by_id=membership.member_id)
    return invitations.order_by("-sent_at", "-pk")


def membership_history(*, congregation: Congregation) -> QuerySet[MembershipEvent]:
    """Who changed whose membership, how and when; newest first."""
    with scopes_disabled():
        return MembershipEvent.objects.filter(congregation=congregation).select_related(
            "actor", "subject"
        )


@dataclass(frozen=True)
class Size:
    """How full a congregation is: the hard cap counts members plus pending invitations."""

    congregation: Congregation
    members: int
    pending: int

    @property
    def occupancy(self) -> int:
        return self.members + self.pending

    @property
    def at_cap(self) -> bool:
        return self.occupancy >= self.congregation.hard_size_cap

    @property
    def time_to_split(self) -> bool:
        return self.members > self.congregation.soft_size_threshold


def congregation_size(*, congregation: Congregation, now: datetime | None = None) -> Size:
    now = now or timezone.now()
    return Size(
        congregation=congregation,
        members=current_memberships(congregation=congregation).count(),
        pending=pending_invitations(congregation=congregation, now=now).count(),
    )


def strangers_to(*, congregation: Congregation, selves: list[Self]) -> list[Self]:
    """Those of ``selves`` who are not current members of the congregation."""
    with scopes_disabled():
        members = set(
            Membership.objects.current()
            .filter(congregation=congregation, member__in=selves)
            .values_list("member_id", flat=True)
        )
    return [person for person in selves if person.pk not in members]


def refuse_strangers(
    *, congregation: Congregation, selves: list[Self], field: str | None = None
) -> None:
    """A ValidationError naming whoever of ``selves`` is not a current member."""
    if strangers := strangers_to(congregation=congregation, selves=selves):
        names = ", ".join(str(person) for person in strangers)
        message = f"Not a member of {congregation.name}: {names}."
        raise ValidationError({field: message} if field else message)
