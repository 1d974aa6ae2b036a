"""A crew's meetings as iCalendar: the personal feed a Self's calendar subscribes to, and the
iTIP messages (RFC 5546) emailed about one meeting, so a member's calendar adds, moves or
removes the event it holds. Every text goes through icalendar's typed values, which escape
commas, semicolons, backslashes and line breaks the same way every parser reads them.

The texts people read (the calendar's name, an event's title and description) are in the
active language: the caller chooses it, the reader's (``Self.email_language``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Literal
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext, pgettext
from icalendar import Calendar, Event, vCalAddress, vText

from congregations.models import Self

from .links import meeting_url
from .models import Meeting

# A meeting records when it starts, not when it ends; calendars want a length to draw.
MEETING_LENGTH = timedelta(hours=2)

Method = Literal["REQUEST", "CANCEL"]


def meetings_calendar(
    meetings: Iterable[Meeting],
    *,
    now: datetime,
    link: Callable[[Meeting], str] = meeting_url,
    name: str | None = None,
) -> bytes:
    """The feed: one event per meeting, no METHOD (a subscription, not a message)."""
    # Translators: the name of a person's calendar of meetings. A crew is a small group of
    # 3–8 people who meet about once a month (the proposal's "Crew"); a dyad is a
    # partnership of two (the proposal's "Dyad").
    calendar = _calendar(name or gettext("My crews and dyads"))
    for meeting in meetings:
        calendar.add_component(_event(meeting, stamp=now, link=link))
    return calendar.to_ical()


def method_of(meeting: Meeting) -> Method:
    return "CANCEL" if meeting.is_cancelled else "REQUEST"


def meeting_message(meeting: Meeting, *, attendee: Self, now: datetime) -> bytes:
    """The meeting as it is now, as an iTIP message to one member: REQUEST while it is on
    (new, or changed: a higher SEQUENCE replaces the event), CANCEL once cancelled. DTSTAMP
    is ``now``, when this message is made (RFC 5545 3.8.7.2 for objects with a METHOD).
    The ORGANIZER is the app's own sending address; the member is the ATTENDEE that iTIP
    requires, with RSVP=FALSE since the app reads no replies."""
    calendar = _calendar(meeting.crew.name)
    calendar.add("method", method_of(meeting))
    event = _event(meeting, stamp=now, link=meeting_url)
    event.add("organizer", _organizer())
    guest = vCalAddress(f"mailto:{attendee.email}")
    guest.params.update({"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "FALSE"})
    event.add("attendee", guest)
    calendar.add_component(event)
    return calendar.to_ical()


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Microsolidarity//Crew meetings//EN")
    calendar.add("version", "2.0")
    # An X- property has no type of its own: as vText its commas, semicolons and backslashes
    # are escaped, and VALUE=TEXT tells readers to unescape them (icalendar reads an untyped
    # X- property verbatim; vobject, Radicale and calendar programs read it as text).
    calendar.add("x-wr-calname", vText(name), parameters={"VALUE": "TEXT"})
    return calendar


def _event(meeting: Meeting, *, stamp: datetime, link: Callable[[Meeting], str]) -> Event:
    """The UID stays the same for a meeting and SEQUENCE follows its version, so a moved or
    cancelled meeting updates the event already in a calendar instead of adding another.
    Notes stay out: calendars are shared with services the crew did not choose."""
    host = urlsplit(settings.SITE_URL).hostname or "microsolidarity"
    event = Event()
    event.add("uid", vText(f"meeting-{meeting.pk}@{host}"))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(UTC))
    event.add("duration", MEETING_LENGTH)
    # Translators: the title of a crew's meeting in a calendar; {crew} is the crew's name.
    # English gives the name alone; say "Meeting of {crew}" if your language reads better.
    event.add("summary", vText(pgettext("calendar event", "{crew}").format(crew=meeting.crew.name)))
    event.add("sequence", meeting.version)
    event.add("status", "CANCELLED" if meeting.is_cancelled else "CONFIRMED")
    event.add("url", link(meeting))
    if meeting.place:
        event.add("location", vText(meeting.place))
    if meeting.agenda:
        # Translators: a meeting's description in a calendar; {agenda} is the agenda the crew
        # wrote, often several lines. English gives the agenda alone; you may put a heading
        # ("Agenda:") and a line break before it.
        agenda = pgettext("calendar event", "{agenda}").format(agenda=meeting.agenda)
        event.add("description", vText(agenda))
    return event


def _organizer() -> vCalAddress:
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = vCalAddress(f"mailto:{address}")
    if name:
        # A parameter value cannot hold a double quote (RFC 5545 3.1); RFC 6868's escape
        # for one is not read by every parser.
        organizer.params["CN"] = name.replace('"', "")
    return organizer
