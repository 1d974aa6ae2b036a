"""Attack tests for issue 17: what leaves the app, used the way members' calendar programs,
mail providers, spreadsheet programs and attackers use it. Calendar programs match an
update to the event they hold by UID and take it when its SEQUENCE is higher; mail
providers POST the unsubscribe link with no cookie and no CSRF token; Excel and
LibreOffice read a cell's type from what it holds."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from congregations.models import REMIND_BEFORE_EXPIRY, Membership, Self
from congregations.services import (
    invite,
    leave_congregation,
    remind_invitations,
    send_due_emails,
    update_settings,
)
from congregations.tenancy import tenant
from congregations.timezones import moment_in
from congregations.unsubscribe import SIGNER
from crews.services import (
    cancel_meeting,
    form_crew,
    log_meeting,
    reschedule_meeting,
    schedule_meeting,
)
from crews.services.reminders import send_due_reminders
from privacy.services.erasure import erase_self
from reciprocity.sheets import csv_lines, xlsx_book
from tests import test_emails_in_mail_programs as every_email
from tests.builders import DAY, HOUR, money_round, scheduled_meeting, signed_in, snapshot
from tests.factories import MembershipFactory
from tests.test_emails_in_mail_programs import (
    EVERY_EMAIL,
    Scene,
    one_click,
    parsed,
    sent,
    turned_off,
    unsubscribe_path,
)

pytestmark = [pytest.mark.django_db]

# The scene of every kind of email: its members, their crew, and the services that send.
scene = every_email.scene


# --- one-click unsubscribe ---------------------------------------------------------------


def link_of(scene: Scene, name: str) -> tuple[Self, str, str]:
    expected, message = sent(scene, name)
    return Self.objects.get(email=expected.to), expected.kind, unsubscribe_path(parsed(message))


def test_one_self_s_link_posted_with_another_s_session_turns_off_only_the_link_s_self(
    scene: Scene,
) -> None:
    recipient, kind, path = link_of(scene, "conflict_opened")
    other = signed_in(scene.crew_mate)

    assert (
        other.post(
            path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        ).status_code
        == 200
    )

    assert turned_off(recipient, kind)
    assert not turned_off(scene.crew_mate, kind)


@pytest.mark.parametrize("name", ["conflict_opened", "meeting_reminder", "daily"])
def test_a_second_one_click_is_idempotent(scene: Scene, name: str) -> None:
    recipient, kind, path = link_of(scene, name)
    assert one_click(path) == 200
    before = snapshot()

    assert one_click(path) == 200

    assert turned_off(recipient, kind)
    assert snapshot() == before


def test_a_link_still_works_after_its_self_left_the_congregation(scene: Scene) -> None:
    recipient, kind, path = link_of(scene, "conflict_opened")
    with tenant(scene.congregation):
        leave_congregation(membership=Membership.objects.current().get(member=recipient))

    assert one_click(path) == 200
    assert turned_off(recipient, kind)


@pytest.mark.parametrize("kind", ["invitation", "sign-in", "", "REMINDERS", "reminders "])
def test_a_genuinely_signed_token_for_a_kind_that_cannot_be_turned_off_is_refused(
    scene: Scene, kind: str
) -> None:
    token = SIGNER.sign_object([scene.member.pk, kind], compress=True)
    before = snapshot()

    for method in ("get", "post"):
        response = getattr(Client(), method)(reverse("unsubscribe", kwargs={"token": token}))
        assert response.status_code == 404

    assert snapshot() == before


@pytest.mark.parametrize(
    "token",
    [
        "x" * 100_000,
        ":",
        "::::",
        "a:b:c",
        "e30:" + "A" * 43,
        ".eJwLAAA:" + "A" * 43,  # a "compressed" payload that is no zlib
        "%FF%FE",
        "💥:💥",
        "\u0000",
    ],
)
def test_garbage_tokens_get_404_never_500(db: None, token: str) -> None:
    client = Client(raise_request_exception=False)
    for method in ("get", "post"):
        response = getattr(client, method)(f"/unsubscribe/{token}/")
        assert response.status_code == 404, (method, response.status_code)


def test_a_head_from_a_link_scanner_changes_nothing(scene: Scene) -> None:
    recipient, kind, path = link_of(scene, "conflict_opened")

    # Answered as a GET would be, headers alone: nothing to refuse, nothing turned off.
    assert Client().head(path).status_code == 200
    Client().options(path)

    assert not turned_off(recipient, kind)


# --- every link in every email works for its recipient -----------------------------------

LINK = re.compile(r"https?://[^\s<>\"')]+")


@pytest.mark.parametrize("name", sorted(EVERY_EMAIL))
def test_every_link_in_every_email_opens_for_its_recipient(scene: Scene, name: str) -> None:
    expected, message = sent(scene, name)
    body = parsed(message).get_body(preferencelist=("plain",))
    assert body is not None
    links = LINK.findall(body.get_content())
    recipient = Self.objects.filter(email=expected.to).first()
    client = signed_in(recipient) if recipient else Client()

    for link in links:
        path = urlsplit(link.rstrip(".,;:")).path
        response = client.get(path, follow=True)
        assert response.status_code == 200, (name, link, response.status_code)


# --- calendar updates: one UID, a rising SEQUENCE, the method where clients look ---------


def calendars_to(address: str) -> list[tuple[str, icalendar.Component]]:
    """(the MIME part's method parameter, the parsed calendar) of every iTIP email to
    ``address``, in the order they were sent."""
    found: list[tuple[str, icalendar.Component]] = []
    for message in mail.outbox:
        if message.to != [address]:
            continue
        for part in parsed(message).walk():
            if part.get_content_type() == "text/calendar":
                calendar = icalendar.Calendar.from_ical(part.get_content())
                found.append((str(part.get_param("method")), calendar))
    return found


def event_of(calendar: icalendar.Component) -> icalendar.Component:
    (event,) = calendar.walk("VEVENT")
    return event


def test_reschedule_twice_quickly_then_cancel_updates_the_one_event_in_order(
    scene: Scene,
) -> None:
    meeting = schedule_meeting(
        crew=scene.crew, starts_at=scene.now + 2 * HOUR, scheduled_by=scene.crew_mate
    )
    send_due_reminders()
    send_due_emails()
    first = reschedule_meeting(
        meeting=meeting, changed_by=scene.crew_mate, starts_at=scene.now + 3 * HOUR
    )
    second = reschedule_meeting(
        meeting=first, changed_by=scene.third, starts_at=scene.now + 4 * HOUR, place="Library"
    )
    send_due_emails()  # both changes, one email each
    cancel_meeting(meeting=second, cancelled_by=scene.crew_mate)
    send_due_emails()

    got = calendars_to(scene.member.email)

    assert [c["METHOD"] for _, c in got] == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    # Gmail reads the method from the MIME type (Couchers #8557).
    assert [method for method, _ in got] == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    events = [event_of(c) for _, c in got]
    assert len({str(e["UID"]) for e in events}) == 1
    sequences = [e.decoded("SEQUENCE") for e in events]
    assert sequences == sorted(set(sequences)), sequences  # strictly rising
    assert [str(e["STATUS"]) for e in events][-1] == "CANCELLED"
    assert events[2]["LOCATION"] == "Library"
    assert events[2].decoded("DTSTART") == scene.now.replace(microsecond=0) + 4 * HOUR
    stamps = [e.decoded("DTSTAMP") for e in events]
    assert stamps == sorted(stamps)
    # METHOD is the calendar's (ical4j #423), never the event's.
    assert all("METHOD" not in e for e in events)


def test_a_meeting_across_a_dst_change_stays_at_its_wall_clock_time(scene: Scene) -> None:
    amsterdam = ZoneInfo("Europe/Amsterdam")
    scene.member.timezone = amsterdam
    scene.member.save()
    with tenant(scene.congregation):
        scene.crew.timezone = amsterdam
        scene.crew.save()
    # Sunday 28 March 2027: clocks go from 02:00 to 03:00. The meeting is at 19:00 that day,
    # scheduled and reminded on the Saturday (UTC+1), held on the Sunday (UTC+2).
    starts_at = datetime(2027, 3, 28, 19, 0, tzinfo=amsterdam)
    saturday = datetime(2027, 3, 27, 12, 0, tzinfo=amsterdam)
    schedule_meeting(
        crew=scene.crew, starts_at=starts_at, scheduled_by=scene.crew_mate, now=saturday
    )
    send_due_reminders(now=starts_at - 20 * HOUR)
    send_due_emails(now=starts_at - 20 * HOUR)

    ((_, calendar),) = calendars_to(scene.member.email)
    start = event_of(calendar).decoded("DTSTART")
    assert start.astimezone(amsterdam).hour == 19
    (reminder,) = [m for m in mail.outbox if m.to == [scene.member.email]]
    assert "19:00 CEST" in reminder.subject


# --- spreadsheets ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["#N/A", "#REF!", "#DIV/0!", "#NAME?"])
def test_a_name_that_looks_like_an_error_value_is_a_text_cell_in_the_xlsx(name: str) -> None:
    """openpyxl turns a string that equals one of Excel's error codes into an error cell:
    Excel then shows an error, sums and lookups over the column fail, and the name is lost
    as text."""
    day = (datetime(2026, 12, 6)).date()
    book = xlsx_book([[day, name, "Tuesday crew", "Crew", "Money round", 1, "why", name, ""]])

    sheet = load_workbook(io.BytesIO(book)).active
    assert sheet is not None
    row = next(sheet.iter_rows(min_row=2))
    assert (row[1].value, row[1].data_type) == (name, "s")
    # The CSV marks it as it marks a formula: Excel would read it as an error too.
    (line,) = list(csv.reader(list(csv_lines([[day, name, "", "", "", 1, "", "", ""]]))[1:]))
    assert line[1] == f"'{name}"


@pytest.mark.parametrize(
    "name",
    [
        "Pot\r\nluck\tcrew",
        "🍲 Potluck 🌍 crew",
        '=HYPERLINK("http://evil.example","x")',
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "x" * 300,
    ],
)
def test_hostile_names_round_trip_through_both_formats(name: str) -> None:
    day = (datetime(2026, 12, 6)).date()
    book = xlsx_book([[day, name, name, "Crew", "Money round", 1, name, name, ""]])

    sheet = load_workbook(io.BytesIO(book)).active
    assert sheet is not None
    row = next(sheet.iter_rows(min_row=2))
    for cell in (row[1], row[2], row[6], row[7]):
        assert cell.data_type == "s"
        assert cell.value == name.replace("\r", "\n") or cell.value == name.replace("\r\n", "\n")


# --- production links are HTTPS ------------------------------------------------------------


def test_production_will_not_put_http_links_in_emails() -> None:
    """RFC 8058: the List-Unsubscribe link must be HTTPS. Production left with the default
    SITE_URL would mail http://127.0.0.1:8000 links, which no provider honours and no
    member can open: the deploy check says so."""
    from tests.microsolidarity.test_settings import PRODUCTION, manage

    for site_url in ("", "http://microsolidarity.example.org"):
        unset = {k: v for k, v in PRODUCTION.items() if k != "SITE_URL"}
        env = {**unset, "SITE_URL": site_url} if site_url else unset
        result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
        assert result.returncode != 0
        assert "SITE_URL" in result.stderr

    good = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert good.returncode == 0, good.stderr


# --- times in subjects name their zone ------------------------------------------------------

SAO_PAULO = ZoneInfo("America/Sao_Paulo")  # no lettered abbreviation: "-03"


@pytest.mark.parametrize(
    ("zone", "named"),
    [(ZoneInfo("Europe/Amsterdam"), " CET"), (SAO_PAULO, " (America/Sao_Paulo)")],
)
@pytest.mark.parametrize("name", ["meeting_reminder", "meeting_changed", "log_nudge"])
def test_a_time_in_a_subject_names_the_reader_s_zone(
    scene: Scene, name: str, zone: ZoneInfo, named: str
) -> None:
    """A member reads "Log it by Monday 7 December, 19:46" in a mail list beside mail from
    people in other zones: the subject, like the body, names the clock it is on."""
    scene.member.timezone = zone
    scene.member.save()
    _, message = sent(scene, name)

    subject = str(message.subject)
    assert re.search(r"\d\d:\d\d" + re.escape(named) + "$", subject), subject


# --- the invitation's deadline when the congregation's zone changes after it was sent ------


def test_an_invitation_s_reminder_states_the_same_deadline_after_the_zone_changed(
    scene: Scene,
) -> None:
    congregation, facilitator = scene.congregation, scene.facilitator
    update_settings(congregation=congregation, changed_by=facilitator, timezone="Asia/Kolkata")
    sent_at = scene.now - congregation.invitation_lifetime + REMIND_BEFORE_EXPIRY / 2
    invite(congregation=congregation, email="ben@example.net", invited_by=facilitator, now=sent_at)
    send_due_emails(now=sent_at)
    update_settings(congregation=congregation, changed_by=facilitator, timezone="Pacific/Pago_Pago")
    remind_invitations(now=scene.now)
    send_due_emails(now=scene.now)

    expires = sent_at + congregation.invitation_lifetime
    first, reminder = [parsed(m).get_body().get_content() for m in mail.outbox]  # type: ignore[union-attr]
    assert moment_in(expires, "Asia/Kolkata") in first
    assert moment_in(expires, "Pacific/Pago_Pago") in reminder


# --- an erased Self's link -------------------------------------------------------------------


def test_an_erased_self_s_link_neither_fails_nor_says_who_it_was(scene: Scene) -> None:
    recipient, _, path = link_of(scene, "conflict_opened")
    name = str(recipient)
    erase_self(self_=recipient)

    client = Client(raise_request_exception=False)
    for response in (client.get(path), client.post(path, {"List-Unsubscribe": "One-Click"})):
        assert response.status_code in (200, 404), response.status_code
        assert name.encode() not in response.content


# --- CSV days on a day boundary in the farthest zones ----------------------------------------

KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")  # UTC-11: a whole day and more behind


@pytest.mark.parametrize("export", ["crew_entries_csv", "crew_entries_xlsx"])
def test_a_meeting_just_after_midnight_in_kiritimati_is_dated_its_day_for_a_reader_in_pago_pago(
    scene: Scene, export: str
) -> None:
    member, crew_mate = scene.member, scene.crew_mate
    member.timezone = PAGO_PAGO
    member.save()
    third = MembershipFactory.create(congregation=scene.congregation).member
    crew = form_crew(
        congregation=scene.congregation,
        name="Line Islands crew",
        members=[member, crew_mate, third],
        timezone="Pacific/Kiritimati",
        now=scene.now - 180 * DAY,
    )
    local = (scene.now - 2 * DAY).astimezone(KIRITIMATI)
    starts_at = local.replace(hour=0, minute=30, second=0, microsecond=0)
    meeting = log_meeting(
        meeting=scheduled_meeting(crew, starts_at),
        present=[member, crew_mate, third],
        logged_by=member,
        now=starts_at + HOUR,
    )
    money_round(meeting, focus=crew_mate, offerer=member)
    day = starts_at.date()
    assert (day - starts_at.astimezone(PAGO_PAGO).date()).days == 2  # two days apart

    response = signed_in(member).get(
        reverse(
            f"reciprocity:{export}",
            kwargs={"congregation_slug": scene.congregation.slug, "crew_pk": crew.pk},
        )
    )

    if export.endswith("csv"):
        content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        _, *body = csv.reader(io.StringIO(content.decode("utf-8-sig")))
        dates = {row[0] for row in body}
        reasons = [row[6] for row in body]
    else:
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet is not None
        rows = list(sheet.iter_rows(min_row=2, values_only=True))
        dates = {row[0].date().isoformat() for row in rows}
        reasons = [str(row[6]) for row in rows]
    assert dates == {day.isoformat()}
    assert reasons and all(f"{day.day} {day:%B %Y}" in reason for reason in reasons), reasons


def test_a_reminder_still_in_the_outbox_when_its_meeting_is_cancelled_does_not_go_out(
    scene: Scene,
) -> None:
    """The reminder is queued, then the meeting is cancelled before the outbox sends (the
    mail server was down, the email is waiting for its retry). The stale REQUEST must not
    reach the member after, or with, the CANCEL: a calendar that has not got the event yet
    (Gmail processes them in arrival order) would add a meeting that will not happen, and
    the member reads "meets on Sunday" beside "Cancelled"."""
    meeting = schedule_meeting(
        crew=scene.crew, starts_at=scene.now + 2 * HOUR, scheduled_by=scene.crew_mate
    )
    send_due_reminders()
    cancel_meeting(meeting=meeting, cancelled_by=scene.crew_mate)
    send_due_emails()

    subjects = [m.subject for m in mail.outbox if m.to == [scene.member.email]]
    assert subjects == ["Cancelled: Tuesday crew meeting"], subjects
