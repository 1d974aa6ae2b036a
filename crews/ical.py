"""A Self's crew meetings as an iCalendar feed, so their own calendar shows them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from icalendar import Calendar, Event

from .links import meeting_url
from .models import Meeting

# A meeting records when it starts, not when it ends; calendars want a length to draw.
MEETING_LENGTH = timedelta(hours=2)


def meetings_calendar(
    meetings: Iterable[Meeting],
    *,
    now: datetime,
    link: Callable[[Meeting], str] = meeting_url,
    name: str = "My crews and dyads",
) -> bytes:
    """One event per meeting, its start in UTC. The UID stays the same for a meeting
    and SEQUENCE follows its version, so a moved or cancelled meeting updates the event
    already in a calendar instead of adding another. Notes stay out: calendars are shared
    with services the crew did not choose."""
    host = urlsplit(settings.SITE_URL).hostname or "microsolidarity"
    calendar = Calendar()
    calendar.add("prodid", "-//Microsolidarity//Crew meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for meeting in meetings:
        event = Event()
        event.add("uid", f"meeting-{meeting.pk}@{host}")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", meeting.starts_at.astimezone(UTC))
        event.add("duration", MEETING_LENGTH)
        event.add("summary", meeting.crew.name)
        event.add("sequence", meeting.version)
        event.add("status", "CANCELLED" if meeting.is_cancelled else "CONFIRMED")
        event.add("url", link(meeting))
        if meeting.place:
            event.add("location", meeting.place)
        if meeting.agenda:
            event.add("description", meeting.agenda)
        calendar.add_component(event)
    return calendar.to_ical()
