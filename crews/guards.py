"""Checks the crew services share, which refuse with a ``ValidationError`` a person can
read. They read and raise; they never write."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from congregations.models import Self

from .models import Crew
from .selectors import is_current_member

# Translators: A crew is a small group of 3–8 people who meet about once a month (the
# proposal's "Crew").
NOT_A_MEMBER = _("Only members of this crew can do that.")


def require_member(crew: Crew, self_: Self) -> None:
    if not is_current_member(crew=crew, self_=self_):
        raise ValidationError(NOT_A_MEMBER)
