"""Times in emails, true for their reader: ``{{ moment|in_zone:recipient.timezone }}``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template

from ..timezones import moment_in

register = template.Library()


@register.filter
def in_zone(moment: datetime, zone: Any) -> str:
    """The instant on ``zone``'s clock, the zone named: "Sunday 13 December 2026, 19:46 CET"."""
    return moment_in(moment, zone)
