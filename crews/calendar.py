"""Meetings as iCalendar events: the reminder's attachment and the personal feed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from icalendar import Calendar, Event

from .links import meeting_url
from .models import Meeting, MeetingStatus

# A monthly crew meeting is an evening's conversation; calendars need an end.
DURATION = timedelta(hours=2)
PRODID = "-//Microsolidarity//Crew meetings//EN"


def meeting_event(meeting: Meeting) -> Event:
    event = Event()
    event.add("uid", f"meeting-{meeting.pk}@microsolidarity")
    event.add("dtstamp", meeting.created_at)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.starts_at + DURATION)
    event.add("summary", f"{meeting.crew.name} meets")
    event.add("sequence", meeting.version)
    event.add("url", meeting_url(meeting))
    if meeting.place:
        event.add("location", meeting.place)
    if meeting.agenda:
        event.add("description", meeting.agenda)
    is_cancelled = meeting.status == MeetingStatus.CANCELLED
    event.add("status", "CANCELLED" if is_cancelled else "CONFIRMED")
    return event


def calendar(meetings: Iterable[Meeting], *, name: str) -> bytes:
    """An iCalendar file of the meetings; times are written in UTC."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for meeting in meetings:
        cal.add_component(meeting_event(meeting))
    return cal.to_ical()
