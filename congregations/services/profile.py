"""What a Self tells the congregation about themselves."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Self

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
