"""Template tags of the crew pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import pgettext

from congregations.templatetags.times import datetime_attr

from ..models import Meeting
from ..selectors import crews_with_next_meeting

register = template.Library()


@register.inclusion_tag("crews/_when.html")
def when(meeting: Meeting) -> dict[str, Any]:
    """A meeting's start in the viewer's timezone, and in the crew's too where the clocks
    there read differently."""
    here = timezone.localtime(meeting.starts_at)
    there = meeting.local_start
    differs = here.utcoffset() != there.utcoffset()
    # Translators: a date format in the letters of Django's date filter; escape literal
    # letters with a backslash. When a meeting starts: "Tuesday 8 December 2026, 19:00".
    when = pgettext("date format", "l j F Y, H:i")
    # Translators: a date format in the letters of Django's date filter; escape literal
    # letters with a backslash. The same start on the crew's clock: "Wed 9 Dec, 07:00".
    elsewhere = pgettext("date format", "D j M, H:i")
    return {
        "iso": datetime_attr(meeting.starts_at),
        "here": date_format(here, when),
        "there": date_format(there, elsewhere) if differs else "",
        "zone": meeting.timezone.key,
    }


@register.inclusion_tag("crews/_my_crews.html", takes_context=True)
def my_crews_everywhere(context: template.Context) -> dict[str, Any]:
    """The signed-in Self's crews and dyads in every congregation, with their next meeting."""
    crews = crews_with_next_meeting(self_=context["request"].user, now=timezone.now())
    return {"crews": crews, "everywhere": True, "request": context["request"]}
