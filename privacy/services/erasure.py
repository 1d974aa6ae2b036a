"""Leaving for good (DESIGN's ``erase_self``): a Self who deletes their account is
anonymised, never deleted, so the ledger keeps every row and each crew's scores still add
up; everything else that names them, reaches them or lets them sign in goes.

Each membership ends through ``leave_congregation``, the path a member leaving takes:
History records it, and its ``membership_ended`` handlers end their crew memberships,
withdraw the crew invitations to and from them and release them from conflicts,
ventures and disputes.
"""

from __future__ import annotations

from datetime import datetime

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Concat, Left, Substr
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from congregations.models import (
    Email,
    EmailOptOut,
    Invitation,
    MembershipEvent,
    Notification,
    Self,
)
from congregations.selectors import congregations_ever_joined, handovers_needed, memberships_of
from congregations.services import leave_congregation, withdraw_invitations_sent_by
from congregations.services.outbox import forget_contents
from congregations.tenancy import tenant
from crews.services import revoke_calendar_feed

from ..models import DataArchive

FORMER_MEMBER = "Former member"
TEXT_LENGTH = Notification._meta.get_field("text").max_length or 500


def former_address(self_: Self) -> str:
    """Unique per Self and never deliverable: .invalid is reserved for that (RFC 2606)."""
    return f"former-{self_.pk}@anonymised.invalid"


@transaction.atomic
def erase_self(*, self_: Self, now: datetime | None = None) -> Self:
    """Leave every congregation for good and anonymise the Self; returns them anonymised.
    Refused, changing nothing, while they are the last facilitator of a congregation
    with other members (``congregations.selectors.handovers_needed``)."""
    now = now or timezone.now()
    # Two deletions at once (two tabs) take turns; the second finds it done.
    self_ = Self.objects.select_for_update().get(pk=self_.pk)
    if self_.anonymised_at:
        raise ValidationError(gettext("This account has been deleted already."))
    if needed := handovers_needed(self_=self_):
        names = ", ".join(congregation.name for congregation in needed)
        raise ValidationError(
            # Translators: %(names)s lists congregations (whole communities of members); a
            # facilitator looks after a congregation; "Members" names its members' page.
            ngettext(
                "You are the last facilitator of %(names)s. Make someone else a facilitator "
                "there first, on its Members page; then you can delete your account.",
                "You are the last facilitator of %(names)s. Make someone else a facilitator "
                "in each first, on its Members page; then you can delete your account.",
                len(needed),
            )
            % {"names": names}
        )
    # Wherever they sent one, congregations they left before included.
    withdraw_invitations_sent_by(self_=self_, now=now)
    for membership in memberships_of(self_=self_):
        leave_congregation(membership=membership, now=now)
    # Those they left before as well: their invitation and emails there still name them.
    for congregation_id in congregations_ever_joined(self_=self_):
        _forget_them_in(congregation_id, self_, now)
    revoke_calendar_feed(owner=self_)
    # A zip nobody can fetch any more (the link needs them signed in) is not kept its day.
    DataArchive.objects.filter(owner=self_).delete()
    _remove_sign_in(self_)
    _anonymise(self_, now)
    return self_


def _forget_them_in(congregation_id: int, self_: Self, now: datetime) -> None:
    """In the congregation they leave, what still holds their address or name as text:
    emails to them or their address (the queued ones are dropped, never sent; an
    invitation's was queued before they had an account) and their notifications,
    the invitation they joined by and History's lines about it, and the notices others
    had of what they did. The ledger's reasons are append-only and keep the names they
    were written with."""
    address, name, former = self_.email, str(self_), former_address(self_)
    to_them = Q(recipient=self_) | Q(address__iexact=address)
    with tenant(congregation_id):
        Email.objects.filter(to_them, sent_at__isnull=True, failed_at__isnull=True).update(
            failed_at=now, last_error="The recipient has left for good."
        )
        # Sent ones keep their key and state, so nothing is sent twice; not what they said.
        forget_contents(Email.objects.filter(to_them))
        # What they were told is theirs alone, and nobody will read it now.
        Notification.objects.filter(recipient=self_).delete()
        Invitation.objects.filter(Q(accepted_by=self_) | Q(email__iexact=address)).update(
            email=former
        )
        MembershipEvent.objects.filter(email__iexact=address).update(email=former)
        # A notice of their act begins with their name ("Ana invites you to…"): that name
        # alone is replaced, never another member's that begins the same way.
        Notification.objects.filter(actor=self_, text__startswith=f"{name} ").update(
            text=Left(Concat(Value(FORMER_MEMBER), Substr("text", len(name) + 1)), TEXT_LENGTH)
        )


def _remove_sign_in(self_: Self) -> None:
    """Every way in: signed-in sessions, passkeys, the authenticator app and recovery
    codes, and the addresses allauth signs in with or sends codes to."""
    for session in UserSession.objects.filter(user=self_):
        session.end()
    Authenticator.objects.filter(user=self_).delete()
    EmailAddress.objects.filter(user=self_).delete()
    EmailOptOut.objects.filter(owner=self_).delete()


def _anonymise(self_: Self, now: datetime) -> None:
    self_.email = former_address(self_)
    self_.display_name = FORMER_MEMBER
    self_.paid_work = self_.meaningful_work = ""
    self_.timezone = "UTC"
    self_.reminders_enabled = self_.email_digest = False
    # An unusable password also changes the hash every other session was signed with, so
    # Django signs out any session the list above did not know of.
    self_.set_unusable_password()
    self_.is_active = self_.is_staff = self_.is_superuser = False
    self_.last_login = None
    self_.anonymised_at = now
    self_.save()
    self_.groups.clear()
    self_.user_permissions.clear()
