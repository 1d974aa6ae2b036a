"""Template tags of the crew pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format

from congregations.templatetags.times import datetime_attr

from ..models import Meeting
from ..selectors import crews_with_next_meeting

register = template.Library()

WHEN = "l j F Y, H:i"
WHEN_ELSEWHERE = "D j M, H:i"


@register.inclusion_tag("crews/_when.html")
def when(meeting: Meeting) -> dict[str, Any]:
    """A meeting's start in the viewer's timezone, and in the crew's too where the clocks
    there read differently."""
    here = timezone.localtime(meeting.starts_at)
    there = meeting.local_start
    differs = here.utcoffset() != there.utcoffset()
    return {
        "iso": datetime_attr(meeting.starts_at),
        "here": date_format(here, WHEN),
        "there": date_format(there, WHEN_ELSEWHERE) if differs else "",
        "zone": meeting.timezone.key,
    }


@register.inclusion_tag("crews/_my_crews.html", takes_context=True)
def my_crews_everywhere(context: template.Context) -> dict[str, Any]:
    """The signed-in Self's crews and dyads in every congregation, with their next meeting."""
    crews = crews_with_next_meeting(self_=context["request"].user, now=timezone.now())
    return {"crews": crews, "everywhere": True, "request": context["request"]}
