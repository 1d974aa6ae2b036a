"""Checks that services share and that refuse with a ``ValidationError`` a person can read.
They read and raise; they never write."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from .models import Congregation, Membership, Permission, Self
from .selectors import current_membership, strangers_to


def require_permission(
    congregation: Congregation, self_: Self, permission: Permission
) -> Membership:
    """The Self's current membership, refusing one who may not ``permission``."""
    membership = current_membership(congregation=congregation, self_=self_)
    if membership is None or not membership.can(permission):
        raise ValidationError(f"Only those who may {permission.label} can do that.")
    return membership


def refuse_strangers(
    *, congregation: Congregation, selves: list[Self], field: str | None = None
) -> None:
    """A ValidationError naming whoever of ``selves`` is not a current member."""
    if strangers := strangers_to(congregation=congregation, selves=selves):
        names = ", ".join(str(person) for person in strangers)
        message = f"Not a member of {congregation.name}: {names}."
        raise ValidationError({field: message} if field else message)
