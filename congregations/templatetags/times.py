"""Template filters for moments, on every app's pages."""

from __future__ import annotations

from datetime import datetime

from django import template

register = template.Library()


@register.filter
def datetime_attr(moment: datetime) -> str:
    """A moment as a ``<time datetime>`` value: to the second, as HTML allows at most three
    digits of a second's fraction and Python's isoformat writes six."""
    return moment.isoformat(timespec="seconds")
