"""Checks that services share and that refuse with a ``ValidationError`` a person can read.
They read and raise; they never write."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy, ngettext

from .models import Congregation, Membership, Permission, Self
from .selectors import current_membership, strangers_to

# Each refusal whole, so a translator sees the sentence (services: "that"; pages: "this").
# Translators: a congregation is a group of 30 to 200 people who mostly know each other's
# name (the proposal's "Congregation").
REFUSALS = {
    Permission.MANAGE: gettext_lazy("Only those who may manage the congregation can do that."),
    Permission.INVITE: gettext_lazy("Only those who may invite people in can do that."),
    Permission.INVITE_UNLIMITED: gettext_lazy(
        "Only those who may invite without a quota can do that."
    ),
}
PAGE_REFUSALS = {
    Permission.MANAGE: gettext_lazy("Only those who may manage the congregation can do this."),
    Permission.INVITE: gettext_lazy("Only those who may invite people in can do this."),
    Permission.INVITE_UNLIMITED: gettext_lazy(
        "Only those who may invite without a quota can do this."
    ),
}


def require_permission(
    congregation: Congregation, self_: Self, permission: Permission
) -> Membership:
    """The Self's current membership, refusing one who may not ``permission``."""
    membership = current_membership(congregation=congregation, self_=self_)
    if membership is None or not membership.can(permission):
        raise ValidationError(REFUSALS[permission])
    return membership


def refuse_strangers(
    *, congregation: Congregation, selves: list[Self], field: str | None = None
) -> None:
    """A ValidationError naming whoever of ``selves`` is not a current member."""
    if strangers := strangers_to(congregation=congregation, selves=selves):
        names = ", ".join(str(person) for person in strangers)
        # Translators: %(congregation)s is the congregation's name, %(names)s the people's
        # (one, or several: the forms are for how many).
        message = ngettext(
            "Not a member of %(congregation)s: %(names)s.",
            "Not a member of %(congregation)s: %(names)s.",
            len(strangers),
        ) % {
            "congregation": congregation.name,
            "names": names,
        }
        raise ValidationError({field: message} if field else message)
