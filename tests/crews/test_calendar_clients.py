"""Every calendar the app sends reads the same in two independent parsers (icalendar and
vobject), whatever a crew calls itself or wherever it meets; and the emails about a meeting
are iTIP messages, so the event a member's calendar took from the reminder moves with the
meeting and goes when it is cancelled. The calendars are read from the bytes that went out:
the feed's response and the emails the outbox delivered."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

import pytest
import vobject
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from congregations.models import Congregation, Email, Self
from congregations.services.outbox import send_due_emails
from congregations.tenancy import tenant
from crews import services
from crews.models import Crew
from crews.services import cancel_meeting, reschedule_meeting, schedule_meeting
from crews.services.reminders import send_due_reminders

from ..factories import MembershipFactory

pytestmark = pytest.mark.embedded

NAME = 'Potluck, "Friday" crew; Zoë\\Ñ'
PLACE = 'Ana\'s kitchen; back door, "knock twice" \\ Straße 5, Łódź'
AGENDA = 'Harvest, jam; "plans"\nsecond line \\ with a backslash\nÑandú'


def read_with_icalendar(ics: bytes) -> list[dict[str, Any]]:
    calendar = Calendar.from_ical(ics)
    return [
        {
            "calendar name": str(calendar.calendar_name or ""),
            "method": str(calendar.get("METHOD", "")),
            "uid": str(event["UID"]),
            "sequence": event.decoded("SEQUENCE"),
            "status": str(event["STATUS"]),
            "dtstart": event.decoded("DTSTART"),
            "dtstamp": event.decoded("DTSTAMP"),
            "summary": str(event["SUMMARY"]),
            "location": str(event.get("LOCATION", "")),
            "description": str(event.get("DESCRIPTION", "")),
            "organizer": str(event.get("ORGANIZER", "")),
            "attendee": str(event.get("ATTENDEE", "")),
        }
        for event in calendar.walk("VEVENT")
    ]


def read_with_vobject(ics: bytes) -> list[dict[str, Any]]:
    calendar = vobject.readOne(ics.decode())

    def value(component: Any, name: str) -> str:
        return str(component.contents[name][0].value) if name in component.contents else ""

    return [
        {
            "calendar name": value(calendar, "x-wr-calname"),
            "method": value(calendar, "method"),
            "uid": value(event, "uid"),
            "sequence": int(value(event, "sequence")),
            "status": value(event, "status"),
            "dtstart": event.dtstart.value,
            "dtstamp": event.dtstamp.value,
            "summary": value(event, "summary"),
            "location": value(event, "location"),
            "description": value(event, "description"),
            "organizer": value(event, "organizer"),
            "attendee": value(event, "attendee"),
        }
        for event in calendar.vevent_list
    ]


def read(ics: bytes) -> list[dict[str, Any]]:
    """The events as both parsers read them, once they agree on every value."""
    events = read_with_icalendar(ics)
    assert events == read_with_vobject(ics)
    return events


def sent_to(self_: Self, subject_start: str) -> EmailMessage:
    """The one email delivered to ``self_`` whose subject starts so, parsed from its bytes."""
    found = [
        m for m in mail.outbox if m.to == [self_.email] and m.subject.startswith(subject_start)
    ]
    assert len(found) == 1, [m.subject for m in mail.outbox]
    parsed = email.message_from_bytes(found[0].message().as_bytes(), policy=email.policy.strict)
    assert isinstance(parsed, EmailMessage)
    return parsed


def calendar_of(message: EmailMessage) -> tuple[str, bytes]:
    """(the method the MIME part announces, the calendar), checked the way mail programs
    find it: text/calendar beside the text in the first part, and the same as a file."""
    first = next(message.iter_parts())
    assert first.get_content_type() == "multipart/alternative"
    text, part = first.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("charset") == "utf-8"
    ics = part.get_payload(decode=True)
    [file] = message.iter_attachments()
    assert file.get_filename() == "meeting.ics"
    assert isinstance(ics, bytes) and isinstance(copy := file.get_payload(decode=True), bytes)
    # The same calendar; a text part's line ends are the mail's own (CRLF on the wire).
    assert copy.splitlines() == ics.splitlines()
    return str(part.get_param("method")), ics


@pytest.fixture
def potluck(congregation: Congregation, member: Self, crew_mate: Self) -> Crew:
    third = MembershipFactory.create(congregation=congregation).member
    return services.form_crew(
        congregation=congregation,
        name=NAME,
        members=[member, crew_mate, third],
        now=timezone.now() - timedelta(days=30),
    )


def test_the_feed_reads_the_same_in_both_parsers(
    client: Client, member: Self, potluck: Crew
) -> None:
    starts = datetime(timezone.now().year + 1, 7, 7, 17, 0, tzinfo=UTC)
    meeting = schedule_meeting(
        crew=potluck, starts_at=starts, scheduled_by=member, place=PLACE, agenda=AGENDA
    )
    token = services.renew_calendar_feed(owner=member)

    response = client.get(reverse("calendar:feed", args=[token]))

    [event] = read(response.content)
    assert {k: v for k, v in event.items() if k != "dtstamp"} == {
        "calendar name": "My crews and dyads",
        "method": "",
        "uid": f"meeting-{meeting.pk}@127.0.0.1",
        "sequence": 1,
        "status": "CONFIRMED",
        "dtstart": starts,
        "summary": NAME,
        "location": PLACE,
        "description": AGENDA,
        "organizer": "",
        "attendee": "",
    }


def test_the_reminder_the_move_and_the_cancellation_update_one_event(
    member: Self, potluck: Crew
) -> None:
    sending = f"mailto:{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}"
    reminded_at = timezone.now().replace(microsecond=0)
    meeting = schedule_meeting(
        crew=potluck,
        starts_at=reminded_at + timedelta(hours=5),
        scheduled_by=member,
        place="Ana's",
        now=reminded_at - timedelta(days=3),
    )
    run_jobs(reminded_at)

    method, ics = calendar_of(sent_to(member, f"{NAME} meets on"))
    [reminder] = read(ics)
    assert method == "REQUEST"
    assert reminder == {
        "calendar name": NAME,
        "method": "REQUEST",
        "uid": reminder["uid"],
        "sequence": 1,
        "status": "CONFIRMED",
        "dtstart": meeting.starts_at,
        "dtstamp": reminded_at,
        "summary": NAME,
        "location": "Ana's",
        "description": "",
        "organizer": sending,
        "attendee": f"mailto:{member.email}",
    }

    moved_at = reminded_at + timedelta(minutes=20)
    later = reminded_at + timedelta(days=2)
    reschedule_meeting(
        meeting=meeting,
        changed_by=member,
        starts_at=later,
        place=PLACE,
        agenda=AGENDA,
        version=1,
        now=moved_at,
    )
    run_jobs(moved_at)

    method, ics = calendar_of(sent_to(member, f"Moved: {NAME} now meets on"))
    [moved] = read(ics)
    assert method == "REQUEST"
    assert moved == {
        **reminder,
        "sequence": 2,
        "dtstart": later,
        "dtstamp": moved_at,
        "location": PLACE,
        "description": AGENDA,
    }

    cancelled_at = moved_at + timedelta(hours=1)
    cancel_meeting(meeting=meeting, cancelled_by=member, version=2, now=cancelled_at)
    run_jobs(cancelled_at)

    method, ics = calendar_of(sent_to(member, f"Cancelled: {NAME}"))
    [cancelled] = read(ics)
    assert method == "CANCEL"
    assert cancelled == {
        **moved,
        "method": "CANCEL",
        "status": "CANCELLED",
        "sequence": 3,
        "dtstamp": cancelled_at,
    }
    assert cancelled["uid"] == reminder["uid"]
    assert cancelled["sequence"] > moved["sequence"] > reminder["sequence"]

    # The jobs run again: nothing is sent twice.
    count = len(mail.outbox)
    run_jobs(cancelled_at)
    run_jobs(cancelled_at + timedelta(minutes=1))
    assert len(mail.outbox) == count


def test_a_change_before_the_reminder_is_carried_by_the_reminder_alone(
    member: Self, potluck: Crew
) -> None:
    now = timezone.now().replace(microsecond=0)
    meeting = schedule_meeting(
        crew=potluck, starts_at=now + timedelta(days=5), scheduled_by=member, now=now
    )
    reschedule_meeting(
        meeting=meeting,
        changed_by=member,
        starts_at=meeting.starts_at,
        place=PLACE,
        version=1,
        now=now + timedelta(hours=1),
    )
    with tenant(meeting):
        assert not Email.objects.exists()

    due = meeting.starts_at - timedelta(hours=24)
    run_jobs(due)

    [event] = read(calendar_of(sent_to(member, f"{NAME} meets on"))[1])
    assert (event["location"], event["sequence"], event["dtstamp"]) == (PLACE, 2, due)


def test_a_change_after_the_reminder_that_keeps_the_time_says_so(
    member: Self, potluck: Crew
) -> None:
    now = timezone.now().replace(microsecond=0)
    meeting = schedule_meeting(
        crew=potluck, starts_at=now + timedelta(hours=5), scheduled_by=member, now=now
    )
    run_jobs(now)
    reschedule_meeting(
        meeting=meeting, changed_by=member, starts_at=meeting.starts_at, place=PLACE, version=1
    )
    run_jobs(timezone.now())

    message = sent_to(member, f"Changed: {NAME} meeting on")
    [event] = read(calendar_of(message)[1])
    assert (event["location"], event["sequence"]) == (PLACE, 2)
    assert "The attached file updates the meeting in your calendar." in str(
        next(message.iter_parts()).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    )


def test_saving_a_meeting_unchanged_tells_nobody(member: Self, potluck: Crew) -> None:
    now = timezone.now()
    meeting = schedule_meeting(
        crew=potluck, starts_at=now + timedelta(hours=5), scheduled_by=member, now=now
    )
    run_jobs(now)
    sent = len(mail.outbox)
    reschedule_meeting(meeting=meeting, changed_by=member, starts_at=meeting.starts_at, version=1)
    run_jobs(timezone.now())
    assert len(mail.outbox) == sent


def run_jobs(now: datetime) -> None:
    send_due_reminders(now=now)
    send_due_emails(now=now)
