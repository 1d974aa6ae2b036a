"""Read-only queries about congregations and memberships.

Each takes the congregation (or a membership in it) explicitly and filters by it, and runs
inside that congregation's walls (a request's, a service's). Some read across
congregations on purpose, through the door: a Self's own lists (congregations,
notifications), and an invitation link, which names no congregation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from microsolidarity.compiled import Compiled

from .models import (
    Congregation,
    Invitation,
    Membership,
    MembershipEvent,
    Notification,
    Permission,
    Role,
    Self,
)
from .tenancy import across_congregations
from .tokens import hash_token


def memberships_of(*, self_: Self) -> list[Membership]:
    """The Self's current memberships, across every congregation they belong to."""
    with across_congregations():
        return list(
            Membership.objects.current()
            .filter(member=self_)
            .select_related("congregation")
            .order_by("congregation__name")
        )


def congregations_ever_joined(*, self_: Self) -> list[int]:
    """The ids of every congregation the Self belongs or once belonged to: where rows
    still hold their address or name after they left."""
    with across_congregations():
        return list(
            Membership.objects.filter(member=self_)
            .order_by("congregation_id")
            .values_list("congregation_id", flat=True)
            .distinct()
        )


def handovers_needed(*, self_: Self) -> list[Congregation]:
    """The congregations of which the Self is the only facilitator while others are
    members: someone else takes it on there before they can leave for good."""
    with across_congregations():
        others = (
            Membership.objects.current()
            .filter(congregation=OuterRef("congregation"))
            .exclude(member=self_)
        )
        return [
            membership.congregation
            for membership in Membership.objects.current()
            .filter(member=self_, role=Role.FACILITATOR)
            .filter(Exists(others))
            .exclude(Exists(others.filter(role=Role.FACILITATOR)))
            .select_related("congregation")
            .order_by("congregation__name")
        ]


def current_membership(*, congregation: Congregation, self_: Self) -> Membership | None:
    found = CURRENT_MEMBERSHIP.objects(timezone.now(), [congregation.pk], [self_.pk])
    return found[0] if found else None


def _current_membership(
    now: datetime, congregation_id: list[int], self_id: list[int]
) -> QuerySet[Membership]:
    (congregation,), (me,) = congregation_id, self_id
    # At most one current membership (one_current_membership_per_self): no order to
    # compile.
    return Membership.objects.current().filter(congregation_id=congregation, member_id=me)[:1]


# Every page of a congregation asks it (its middleware): building and compiling it cost
# more than running it.
CURRENT_MEMBERSHIP = Compiled(_current_membership)


def current_memberships(*, congregation: Congregation) -> QuerySet[Membership]:
    """Everyone in the congregation now, by name."""
    return (
        Membership.objects.current()
        .filter(congregation=congregation)
        .select_related("member")
        .order_by("member__display_name", "pk")
    )


def member_selves(*, congregation: Congregation) -> QuerySet[Self]:
    """The congregation's current members as Selves, by name."""
    members = Membership.objects.current().filter(congregation=congregation)
    return Self.objects.filter(pk__in=members.values("member_id")).order_by("display_name", "pk")


def facilitator_count(*, congregation: Congregation) -> int:
    return (
        Membership.objects.current()
        .filter(congregation=congregation, role=Role.FACILITATOR)
        .count()
    )


def pending_invitations(*, congregation: Congregation, now: datetime) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        congregation=congregation,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now,
    ).exclude(sent_email__failed_at__isnull=False)  # never delivered: nobody is coming


def visible_invitations(*, membership: Membership) -> QuerySet[Invitation]:
    """Facilitators see every invitation of the congregation; a member sees the ones they sent."""
    invitations = Invitation.objects.filter(
        congregation_id=membership.congregation_id
    ).select_related("invited_by", "sent_email")
    if not membership.can(Permission.MANAGE):
        invitations = invitations.filter(invited_by_id=membership.member_id)
    return invitations.order_by("-sent_at", "-pk")


def membership_history(*, congregation: Congregation) -> QuerySet[MembershipEvent]:
    """Who changed whose membership, how and when; newest first."""
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
    members = set(
        Membership.objects.current()
        .filter(congregation=congregation, member__in=selves)
        .values_list("member_id", flat=True)
    )
    return [person for person in selves if person.pk not in members]


def invitations_left(*, membership: Membership, now: datetime | None = None) -> int | None:
    """How many more people this member may invite; None for no limit (facilitators)."""
    now = now or timezone.now()
    if membership.can(Permission.INVITE_UNLIMITED):
        return None
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


def invitation_url(token: str) -> str:
    """The address an invitation's email carries."""
    return settings.SITE_URL + reverse("invitation", kwargs={"token": token})


def named_by(token: str) -> Q:
    """The invitation a link's token names: the latest link, or the one the reminder
    followed, which works until the same expiry."""
    token_hash = hash_token(token or "")
    return Q(token_hash=token_hash) | Q(earlier_token_hash=token_hash)


def open_invitation(token: str, *, now: datetime | None = None) -> Invitation | None:
    """The pending invitation a link's token names, or None for any link that does not work."""
    now = now or timezone.now()
    with across_congregations():
        invitation = (
            Invitation.objects.select_related("congregation", "invited_by")
            .filter(named_by(token))
            .first()
        )
    if invitation is None or invitation.status_at(now) != Invitation.Status.PENDING:
        return None
    return invitation


def joined_with(token: str, *, self_: Self) -> Congregation | None:
    """The congregation ``self_`` joined through this invitation link, if they did: the
    link's page sends them in rather than saying it no longer works."""
    with across_congregations():
        invitation = (
            Invitation.objects.select_related("congregation")
            .filter(named_by(token), accepted_by=self_)
            .first()
        )
    return invitation.congregation if invitation else None


def has_account(*, email: str) -> bool:
    return Self.objects.filter(email=email).exists()


def _heard(self_: Self) -> QuerySet[Notification]:
    """The Self's notifications from the congregations they are still in: one who left
    hears no more of a congregation."""
    return Notification.objects.filter(
        recipient=self_,
        congregation_id__in=Membership.objects.current()
        .filter(member=self_)
        .values("congregation_id"),
    )


def unread_count(*, self_: Self) -> int:
    """How many of the Self's notifications are unread, across their congregations."""
    with across_congregations():
        return _heard(self_).filter(read_at__isnull=True).count()


NOTIFICATIONS_SHOWN = 100


def notifications_of(*, self_: Self) -> list[Notification]:
    """The Self's latest notifications across their congregations, newest first."""
    with across_congregations():
        return list(_heard(self_).select_related("congregation")[:NOTIFICATIONS_SHOWN])
