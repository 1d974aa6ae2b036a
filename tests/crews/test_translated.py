"""The crew pages, their emails and calendars in their reader's language: an email or a
calendar is written in its recipient's language whoever's act or job made it; a page in
the language the browser asks for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from icalendar import Calendar

from congregations.models import Self
from congregations.services import update_profile
from congregations.services.outbox import send_due_emails
from crews import services
from crews.models import Crew, Meeting
from crews.services import schedule_meeting
from crews.tasks import send_meeting_reminders
from tests.builders import congregation_url

pytestmark = pytest.mark.django_db

AGENDA = "Harvest\nJam"


def reminder_to(self_: Self) -> mail.EmailMessage:
    [email] = [m for m in mail.outbox if m.to == [self_.email]]
    return email


def event_of(email: mail.EmailMessage) -> tuple[str, str]:
    """(SUMMARY, DESCRIPTION) of the meeting the email carries for its reader's calendar."""
    name, content, _mimetype = email.attachments[0]
    assert name == "meeting.ics"
    [event] = Calendar.from_ical(content).walk("VEVENT")
    return str(event["SUMMARY"]), str(event.get("DESCRIPTION", ""))


@pytest.mark.embedded
def test_a_reminder_is_written_in_each_readers_language_whatever_the_jobs(
    crew: Crew, member: Self, crew_mate: Self
) -> None:
    update_profile(self_=member, language="de", timezone="Europe/Berlin")
    update_profile(self_=crew_mate, timezone="Europe/Berlin")
    starts = timezone.now().replace(microsecond=0) + timedelta(hours=3)
    schedule_meeting(
        crew=crew, starts_at=starts, scheduled_by=crew_mate, place="Ana's", agenda=AGENDA
    )

    with translation.override("en"):  # the job's own language
        send_meeting_reminders()
        send_due_emails()

    local = starts.astimezone(member.timezone)
    with translation.override("de"):
        when = date_format(local, "l, j. F Y, H:i")
    german = reminder_to(member)
    assert german.subject == f"{crew.name} trifft sich am {when} {local:%Z}"
    assert german.body.startswith(f"Hallo {member.display_name},\n\n")
    assert f"{crew.name} trifft sich am {when} {local:%Z}." in german.body
    assert "Wo: Ana's" in german.body
    assert f"Tagesordnung:\n{AGENDA}" in german.body
    assert "Die angehängte Datei trägt es in deinen Kalender ein." in german.body
    assert "meets" not in german.body
    assert event_of(german) == (f"Treffen: {crew.name}", f"Tagesordnung:\n{AGENDA}")

    english = reminder_to(crew_mate)
    assert english.subject.startswith(f"{crew.name} meets on {local:%A} {local.day} {local:%B}")
    assert english.body.startswith(f"Hello {crew_mate.display_name},\n\n")
    assert "Where: Ana's" in english.body
    assert event_of(english) == (crew.name, AGENDA)


def test_the_crew_page_reads_in_the_browsers_language(
    client: Client, crew: Crew, member: Self, upcoming_meeting: Meeting
) -> None:
    client.force_login(member)

    url = congregation_url("crews:crew", crew.congregation, pk=crew.pk)
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="es")

    html = page.content.decode()
    assert '<html lang="es">' in html
    for heading in ("Próxima reunión", "Programar una reunión", "Miembros", "Dónde hemos estado"):
        assert f"<h2>{heading}</h2>" in html
    local = upcoming_meeting.starts_at.astimezone(member.timezone)
    with translation.override("es"):
        when = date_format(local, r"l j \d\e F \d\e Y, H:i")
        month = date_format(local, "F")
    assert when in html and month in html
    # The Spanish month's name, and not the English one.
    assert f"{local:%B} {local:%Y}" not in html


def test_the_personal_feed_is_in_its_owners_language(
    client: Client, member: Self, upcoming_meeting: Meeting
) -> None:
    update_profile(self_=member, language="es")
    token = services.renew_calendar_feed(owner=member)

    # A calendar program asks in no language of its own, and signs in as nobody.
    response = client.get(reverse("calendar:feed", args=[token]), HTTP_ACCEPT_LANGUAGE="en")

    calendar = Calendar.from_ical(response.content)
    assert calendar.calendar_name == "Mis equipos y díadas"
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == f"Reunión de {upcoming_meeting.crew.name}"


@pytest.mark.parametrize("language", ["en", "es", "de"])
def test_the_meeting_form_fills_its_date_picker_in_every_language(
    client: Client, crew: Crew, member: Self, upcoming_meeting: Meeting, language: str
) -> None:
    """A date picker reads only an ISO date (2027-01-02): a German "02.01.2027" or a
    Spanish "02/01/2027" leaves it empty, and saving the form then asks for a date again."""
    client.force_login(member)
    url = congregation_url("crews:meeting", crew.congregation, pk=upcoming_meeting.pk)

    html = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    local = upcoming_meeting.starts_at.astimezone(crew.timezone)
    assert f'type="date" name="date" value="{local:%Y-%m-%d}"' in html
    assert f'type="time" name="time" value="{local:%H:%M}"' in html
