"""Read-only queries about congregations and memberships."""

from __future__ import annotations

from django.db.models import QuerySet
from django_scopes import scopes_disabled

from .models import Membership, Self


def memberships_of(*, self_: Self) -> QuerySet[Membership]:
    """The Self's current memberships, across every congregation they belong to."""
    with scopes_disabled():
        return (
            Membership.objects.current()
            .filter(member=self_)
            .select_related("congregation")
            .order_by("congregation__name")
        )
