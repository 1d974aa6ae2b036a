"""What the profile shows of a Self's data archive: the profile's view belongs to
congregations, which knows nothing of this app, so the profile's template asks here."""

from __future__ import annotations

from django import template

from congregations.models import Self

from ..selectors import archive_status

register = template.Library()


@register.simple_tag
def data_archive_status(self_: Self) -> str:
    return archive_status(self_=self_)
