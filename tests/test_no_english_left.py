"""No English left on a Spanish or German page or email: every main page, every form sent
back with its errors, the 404 and 403 pages, the sign-in and account pages, every email
the app sends, the calendar's texts and the spreadsheets' headers are read in English,
Spanish and German, and no text of two words or more reads the same in English and in
Spanish (or German), unless it is only what people typed (names, places, notes, titles)
or words the languages share.

What is compared is what a person sees: a page's text nodes and the texts of its
attributes that are read out or shown (aria-label, title, placeholder, alt, a button's
value); an email's subject and body, line by line."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import available_timezones

import openpyxl
import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from icalendar import Calendar

from congregations.models import (
    Ask,
    Congregation,
    Invitation,
    Notification,
    Role,
    Self,
)
from congregations.services import PROFILE_FIELDS, SETTINGS_FIELDS, invite, update_profile
from congregations.services import outbox as outbox_module
from congregations.services.daily import send_daily_emails
from congregations.services.reminders import remind_invitations
from congregations.tenancy import across_congregations, tenant
from congregations.unsubscribe import unsubscribe_url
from crews import services as crew_services
from crews.models import Crew, CrewInvitation, Kind, Meeting
from crews.services import (
    answer_crew_invitation,
    cancel_meeting,
    form_crew,
    invite_to_crew,
    propose_crew,
    reschedule_meeting,
    schedule_meeting,
)
from crews.services.reminders import (
    nudge_quiet_crews,
    nudge_unlogged_meetings,
    send_due_reminders,
)
from privacy.services.downloads import prepare_archive, request_archive
from reciprocity.models import Conflict, Dispute, LedgerEntry, Venture
from reciprocity.services import (
    apply_missed_meeting_deductions,
    confirm_co_ownership,
    confirm_dispute,
    confirm_resolution,
    dispute_deduction,
    open_conflict,
    register_venture,
)
from reciprocity.services.notices import (
    queue_missed_meeting_emails,
    warn_conflicts_nearing_deadline,
)
from tests.builders import HOUR, held_meeting, money_round, scheduled_meeting, signed_in
from tests.factories import PASSWORD, CongregationFactory, MembershipFactory, SelfFactory
from tests.test_isolation import REGISTRY, World, url_of
from tests.test_isolation import world as world  # the isolation matrix's fixture, reused
from tests.test_valid_html import READERS, REFUSED, visit_every_page

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

TRANSLATED = ("es", "de")
LANGUAGES = ("en", *TRANSLATED)

# Words English shares with Spanish or German: a text made only of these (and of what
# people typed, numbers and signs) may read the same in each.
SHARED = {
    "Microsolidarity",
    "Crew",
    "Crews",
    "Dyad",
    "Facilitator",
    "Facilitators",
    "Self",
    "OK",
    "CSV",
    "Excel",
    "xlsx",
    "csv",
    "ics",
    "iCal",
    "PDF",
    "JSON",
    "TOTP",
    "WebAuthn",
    "English",
    "Español",
    "Deutsch",
    "UTC",
    "Europe",
    "Amsterdam",
    "Berlin",
    "Madrid",
    "America",
    "New",
    "York",
}
# Attributes whose texts a person reads or hears (the timezone picker's script shows its
# two data- texts; a list's group shows its label).
READ_OUT = ("aria-label", "title", "placeholder", "alt", "data-device-label", "data-filter-label")
HIDDEN = {"script", "style", "template"}
MOST_WORDS = 2
WORD = re.compile(r"[^\W\d_]+")


class Texts(HTMLParser):
    """The texts a person sees or hears on a page, whitespace made single spaces."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.hidden = 0

    def add(self, text: str | None) -> None:
        text = " ".join((text or "").split())
        if text:
            self.texts.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN:
            self.hidden += 1
        found = dict(attrs)
        for name in READ_OUT:
            self.add(found.get(name))
        if tag == "optgroup":
            self.add(found.get("label"))
        kind = (found.get("type") or "").lower()
        # A <button>'s value is sent, never shown; an input button's is its label.
        if tag == "input" and kind in ("submit", "button", "reset"):
            self.add(found.get("value"))

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.add(data)


def texts_of(html: str) -> set[str]:
    parser = Texts()
    parser.feed(html)
    return set(parser.texts)


class Typed:
    """Everything people typed that a page or an email shows: names, places, notes,
    titles (and, ``told``, what notifications say: each is written once, in its reader's
    language of the moment; the emails' test checks they are). ``blanked`` puts a mark in
    their place, so "Hello Ana," and "Hello Ben," read the same, and is_prose counts only
    the app's own words."""

    MARK = "\u25a1"

    def __init__(self, *, told: bool = False) -> None:
        found: set[str] = set()
        with across_congregations():
            for model, fields in (
                (Self, ("display_name", "email", "paid_work", "meaningful_work")),
                (Congregation, ("name", "slug", "purpose")),
                (Crew, ("name", "purpose")),
                (Meeting, ("place", "agenda", "reflections", "envisioning")),
                (Conflict, ("title",)),
                (Venture, ("name",)),
                (Invitation, ("email", "note")),
                *([(Notification, ("text",))] if told else []),
            ):
                for row in model._default_manager.values_list(*fields):
                    for value in row:
                        found.update(line.strip() for line in str(value or "").splitlines())
                        found.add(str(value or "").strip())
        # The timezone picker's places of more than one word, as the IANA database names them.
        for zone in available_timezones():
            parts = zone.replace("_", " ").split("/")
            found.update(p for i in range(len(parts)) if not (p := "/".join(parts[i:])).isalpha())
        # The longest first, so a name is taken out before a word inside it.
        values = sorted((text for text in found if text), key=len, reverse=True)
        self.pattern = re.compile(
            "(?<!\\w)(?:" + "|".join(map(re.escape, values)) + ")(?!\\w)" if values else "(?!)"
        )

    def blanked(self, texts: Iterable[str]) -> set[str]:
        return {self.pattern.sub(self.MARK, text) for text in texts}


def is_prose(text: str) -> bool:
    """Two words or more of the app's own, once what people typed is taken out."""
    words = [w for w in WORD.findall(text) if w not in SHARED and len(w) > 1]
    return len(words) >= MOST_WORDS


def left_in_english(english: Iterable[str], other: Iterable[str], typed: Typed) -> list[str]:
    return sorted(t for t in typed.blanked(english) & typed.blanked(other) if is_prose(t))


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(
        f"  {where}: {text!r}" for where, texts in sorted(found.items()) for text in texts
    )


# --- the pages ----------------------------------------------------------------------


class Readings:
    """Each page's texts, in each language, by a name that says what the page is."""

    def __init__(self) -> None:
        self.texts: dict[str, dict[str, set[str]]] = {}

    def read(
        self,
        name: str,
        call: Callable[[str], Any],
        status: int = 200,
    ) -> None:
        for language in LANGUAGES:
            response = call(language)
            content = body_of(response)
            assert response.status_code == status, f"{name} in {language}: {response.status_code}"
            kind = response.get("Content-Type", "")
            if kind.startswith("text/html"):
                found = texts_of(content.decode())
            elif kind.startswith("text/csv"):
                found = set(next(csv.reader(io.StringIO(content.decode("utf-8-sig")))))
            elif "spreadsheetml" in kind:
                sheet = openpyxl.load_workbook(io.BytesIO(content)).active
                assert sheet is not None
                found = {str(cell.value) for cell in sheet[1] if cell.value}
            elif kind.startswith("text/calendar"):
                found = ical_texts(content)
            else:
                raise AssertionError(f"{name}: {kind}")
            self.texts.setdefault(name, {})[language] = found

    def get(self, name: str, client: Client, url: str, status: int = 200) -> None:
        self.read(name, lambda language: client.get(url, HTTP_ACCEPT_LANGUAGE=language), status)

    def post(
        self, name: str, client: Client, url: str, data: dict[str, str], status: int = 200
    ) -> None:
        self.read(
            name, lambda language: client.post(url, data, HTTP_ACCEPT_LANGUAGE=language), status
        )

    def english_left(self, typed: Typed) -> dict[str, list[str]]:
        found = {}
        for name, by_language in self.texts.items():
            for language in TRANSLATED:
                left = left_in_english(by_language["en"], by_language[language], typed)
                if left:
                    found[f"{name} ({language})"] = left
        return found


def body_of(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return bytes(response.content)


def ical_texts(content: bytes) -> set[str]:
    calendar = Calendar.from_ical(content)
    found = {str(calendar.get("X-WR-CALNAME", ""))}
    for event in calendar.walk("VEVENT"):
        for field in ("SUMMARY", "DESCRIPTION", "LOCATION"):
            found.update(line.strip() for line in str(event.get(field, "")).splitlines())
    return {text for text in found if text}


def test_no_page_reads_in_english_in_spanish_or_german(
    world: World, token: str, client: Client
) -> None:
    pages = Readings()
    clients = {persona: signed_in(getattr(world, persona)) for persona in READERS}
    crew_mate, facilitator = clients["crew_mate"], clients["facilitator"]

    # Every page of the congregation (the entries' CSV and spreadsheet too) and the Self's.
    visit_every_page(pages, world, clients)
    pages.get("no page at all", clients["member"], "/no-such-page/", status=404)
    for name in ("switcher", "privacy:privacy"):
        pages.get(name, crew_mate, reverse(name))
    feed = crew_services.renew_calendar_feed(owner=world.crew_mate)
    pages.read(
        "calendar feed",
        lambda language: feed_in(world.crew_mate, feed, language),
    )

    # Signing in, and the account's own pages (allauth's, in our templates).
    pages.get("landing", client, reverse("home"))
    for name in (
        "account_login",
        "account_request_login_code",
        "account_reset_password",
        "account_signup",
    ):
        pages.get(name, client, reverse(name), status=200)
    pages.post("sign_in_refused", client, reverse("account_login"), {"login": "x@example.net"})
    pages.post("reset_password_refused", client, reverse("account_reset_password"), {"email": "x"})
    pages.read(
        "account_confirm_login_code",
        lambda language: Client().post(
            reverse("account_request_login_code"),
            {"email": world.member.email},
            follow=True,
            HTTP_ACCEPT_LANGUAGE=language,
        ),
    )
    for name in (
        "account_email",
        "account_change_password",
        "mfa_index",
        "account_reauthenticate",
        "account_logout",
        "usersessions_list",
    ):
        pages.get(name, crew_mate, reverse(name))
    pages.post("account_change_password refused", crew_mate, reverse("account_change_password"), {})
    bad_address = {"action_add": "", "email": "x"}
    pages.post("account_email refused", crew_mate, reverse("account_email"), bad_address)

    # The second factor asked at sign-in, of one who has it.
    with_totp = SelfFactory.create(email="totp@example.net")
    TOTP.activate(with_totp, generate_totp_secret())
    pages.read(
        "mfa_authenticate",
        lambda language: Client().post(
            reverse("account_login"),
            {"login": with_totp.email, "password": PASSWORD},
            follow=True,
            HTTP_ACCEPT_LANGUAGE=language,
        ),
    )

    # An invitation: for someone new, the sign-up refused, for someone with an account.
    invitation = reverse("invitation", args=[token])
    pages.get("invitation", client, invitation)
    pages.post("invitation refused", client, invitation, {"display_name": ""})
    ben = SelfFactory.create(email="ben@example.net")
    pages.get("invitation with an account", signed_in(ben), invitation)

    # An email's one-click unsubscribe link, and a forged one.
    unsubscribe = urlsplit(unsubscribe_url(world.member, Ask.CONFLICT)).path
    pages.get("unsubscribe", client, unsubscribe)
    pages.post("unsubscribed", client, unsubscribe, {})
    forged = unsubscribe.replace("/unsubscribe/", "/unsubscribe/x")
    pages.get("unsubscribe forged", client, forged, status=404)

    # Every main form sent back with its errors.
    for name, blank in REFUSED.items():
        sender = facilitator if name.startswith("congregations:") else crew_mate
        url = url_of(name, world) if name in REGISTRY else reverse(name)
        pages.post(f"{name} refused", sender, url, {blank: ""})
    pages.post(
        "settings out of bounds",
        facilitator,
        url_of("congregations:settings", world),
        {"name": "Kotahi", "hard_size_cap": "2", "invitation_quota": "-1"},
    )

    # Forms sent and done, with what the next page says of it.
    pages.read(
        "profile saved",
        lambda language: crew_mate.post(
            reverse("profile"),
            {field: str(getattr(world.crew_mate, field)) for field in PROFILE_FIELDS},
            follow=True,
            HTTP_ACCEPT_LANGUAGE=language,
        ),
    )
    settings = {field: getattr(world.congregation, field) for field in SETTINGS_FIELDS}
    pages.read(
        "settings saved",
        lambda language: facilitator.post(
            url_of("congregations:settings", world),
            settings,
            follow=True,
            HTTP_ACCEPT_LANGUAGE=language,
        ),
    )
    pages.read(
        "notes saved",
        lambda language: crew_mate.post(
            reverse("crews:notes", args=[world.congregation.slug, world.held.pk]),
            {"reflections": "We ate.", "envisioning": "", "version": version_of(world.held)},
            follow=True,
            HTTP_ACCEPT_LANGUAGE=language,
        ),
    )

    left = pages.english_left(Typed(told=True))
    assert not left, "English left on Spanish or German pages:\n" + report(left)


def version_of(meeting: Meeting) -> int:
    with tenant(meeting.congregation):
        return Meeting.objects.get(pk=meeting.pk).version


def feed_in(owner: Self, token: str, language: str) -> Any:
    """The calendar feed, its owner's language set to ``language``: a calendar program
    asks in no language of its own."""
    update_profile(self_=owner, language=language)
    response = Client().get(reverse("calendar:feed", args=[token]))
    update_profile(self_=owner, language="")
    return response


# --- the emails ---------------------------------------------------------------------

# Every email the app sends, by its template.
EMAILS = {
    "congregations/email/invitation.txt",
    "congregations/email/invitation_reminder.txt",
    "congregations/email/daily.txt",
    "crews/email/crew_invitation.txt",
    "crews/email/reminder.txt",
    "crews/email/changed.txt",
    "crews/email/cancelled.txt",
    "crews/email/log_nudge.txt",
    "crews/email/rhythm_nudge.txt",
    "reciprocity/email/conflict_opened.txt",
    "reciprocity/email/conflict_warning.txt",
    "reciprocity/email/co_ownership.txt",
    "reciprocity/email/missed.txt",
    "reciprocity/email/dispute.txt",
    "privacy/email/archive_ready.txt",
}
LINKS = re.compile(r"https?://\S+|\S+@\S+")


def lines_of(*texts: str) -> set[str]:
    """Each line, links and addresses taken out (their tokens differ anyway)."""
    return {
        " ".join(LINKS.sub(" ", line).split())
        for text in texts
        for line in text.splitlines()
        if LINKS.sub(" ", line).strip()
    }


def everything_emailed(language: str, now: datetime) -> None:
    """A congregation whose people all read ``language``, where something happens that
    sends each email the app sends: its facilitator invites someone new; a crew has a
    meeting in two hours, moved by an hour, one next week cancelled, one yesterday not
    yet logged and one three days ago that one of them missed and says they were at; a
    conflict, a venture, an invitation to a crew, a quiet crew, a data archive, and one
    who takes a daily email with something waiting."""
    congregation = CongregationFactory.create(name=f"Kotahi {language}")

    def person(role: Role = Role.MEMBER, **fields: Any) -> Self:
        self_ = MembershipFactory.create(congregation=congregation, role=role).member
        return update_profile(self_=self_, language=language, **fields)

    facilitator = person(Role.FACILITATOR)
    ana, ben, cai, dee = (person() for _ in range(4))
    eve = person(timezone="Europe/London", email_digest=True)
    with translation.override(language):  # the facilitator's page, in their language
        invite(
            congregation=congregation,
            email=f"new-{language}@example.net",
            invited_by=facilitator,
            note="Come and meet the others.",
            now=now,
        )
    crew = form_crew(
        congregation=congregation,
        name=f"Tuesday crew {language}",
        members=[ana, ben, cai],
        now=now - timedelta(days=60),
    )
    form_crew(
        congregation=congregation,
        name=f"Quiet crew {language}",
        members=[facilitator, dee, eve],
        now=now - timedelta(days=60),
    )
    with tenant(congregation):
        soon = schedule_meeting(
            crew=crew, starts_at=now + 2 * HOUR, scheduled_by=ana, place="Ana's kitchen", now=now
        )
        send_due_reminders(now=now)
        reschedule_meeting(meeting=soon, changed_by=ben, starts_at=now + 3 * HOUR, now=now)
        later = schedule_meeting(
            crew=crew, starts_at=now + timedelta(days=9), scheduled_by=ana, now=now
        )
        cancel_meeting(meeting=later, cancelled_by=ana, now=now)
        scheduled_meeting(crew, now - timedelta(hours=30))
        missed = held_meeting(crew, [ana, ben], now - timedelta(days=3))
        apply_missed_meeting_deductions(congregation=congregation, now=now)
        queue_missed_meeting_emails(now=now)
        deduction = LedgerEntry.objects.get(meeting=missed, member=cai)
        dispute_deduction(entry=deduction, disputed_by=cai, now=now)
        invite_to_crew(crew=crew, invitee=dee, invited_by=ana, now=now)
        invite_to_crew(crew=crew, invitee=eve, invited_by=ana, now=now)
        open_conflict(
            crew=crew, parties=[ana, ben], opened_by=ana, title="The borrowed van", now=now
        )
        register_venture(
            congregation=congregation,
            name="Seed library co-op",
            legal_form="coop",
            co_owners=[ana, dee],
            registered_by=ana,
            now=now,
        )
        # What each is told of: answers, a dyad proposed and formed, confirmations, points.
        answer_crew_invitation(
            invitation=CrewInvitation.objects.get(crew=crew, invitee=dee),
            answered_by=dee,
            accept=True,
            now=now,
        )
        pair = propose_crew(
            congregation=congregation,
            name=f"Pair {language}",
            proposed_by=ben,
            invitees=[cai],
            kind=Kind.DYAD,
            now=now,
        )
        answer_crew_invitation(
            invitation=CrewInvitation.objects.get(crew=pair), answered_by=cai, accept=True, now=now
        )
        confirm_dispute(dispute=Dispute.objects.get(entry=deduction), confirmed_by=ana, now=now)
        resolved = open_conflict(crew=pair, parties=[ben, cai], opened_by=ben, now=now)
        for party in (ben, cai):
            confirm_resolution(conflict=resolved, party=party, now=now)
        confirm_co_ownership(
            venture=Venture.objects.get(congregation=congregation), co_owner=dee, now=now
        )
        money_round(missed, focus=ana, offerer=ben)
    archive = request_archive(self_=ana, now=now)
    prepare_archive(archive_id=archive.pk, now=now)


def test_no_email_reads_in_english_to_a_spanish_or_german_reader(
    monkeypatch: pytest.MonkeyPatch, db: None
) -> None:
    written: dict[str, dict[str, list[tuple[str, str, str]]]] = {}
    real = outbox_module.Outgoing.written

    def recorded(outgoing: outbox_module.Outgoing) -> tuple[str, str]:
        subject, body = real(outgoing)
        attachment = outgoing.attachment.content if outgoing.attachment else ""
        by_template = written.setdefault(outgoing.reader_language, {})
        by_template.setdefault(outgoing.template, []).append((subject, body, attachment))
        return subject, body

    monkeypatch.setattr(outbox_module.Outgoing, "written", recorded)
    now = timezone.now().replace(microsecond=0)
    for language in LANGUAGES:
        everything_emailed(language, now)
    # The jobs, run once for every congregation, in English, as a worker would.
    with translation.override("en"):
        nudge_unlogged_meetings(now=now)
        nudge_quiet_crews(now=now)
        remind_invitations(now=now + timedelta(days=11))
        warn_conflicts_nearing_deadline(now=now + timedelta(days=23, minutes=1))
        send_daily_emails(now=(now + timedelta(days=1)).replace(hour=12, minute=0))

    for language in LANGUAGES:
        assert set(written[language]) == EMAILS, language

    typed = Typed()
    left: dict[str, list[str]] = {}
    for template in sorted(EMAILS):
        english = written["en"][template]
        for language in TRANSLATED:
            for part, index in (("subject", 0), ("body", 1)):
                found = left_in_english(
                    lines_of(*(email[index] for email in english)),
                    lines_of(*(email[index] for email in written[language][template])),
                    typed,
                )
                if found:
                    left[f"{template} {part} ({language})"] = found
            calendars = [ical_texts(e[2].encode()) for e in english if e[2]]
            if calendars:
                found = left_in_english(
                    set().union(*calendars),
                    set().union(
                        *(ical_texts(e[2].encode()) for e in written[language][template] if e[2])
                    ),
                    typed,
                )
                if found:
                    left[f"{template} calendar ({language})"] = found

    # What each was told on their notifications page, written in their language.
    with across_congregations():
        told: dict[str, set[str]] = {}
        for text, reader in Notification.objects.values_list("text", "recipient__language"):
            told.setdefault(reader, set()).add(text)
    for language in TRANSLATED:
        if found := left_in_english(told["en"], told[language], typed):
            left[f"notifications ({language})"] = found

    assert not left, "English left in Spanish or German emails:\n" + report(left)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_account_emails_are_in_the_language_the_browser_asks_for(
    member: Self, language: str
) -> None:
    """Allauth's emails, in our templates: a sign-in code and a password reset."""
    for name, data in (
        ("account_request_login_code", {"email": member.email}),
        ("account_reset_password", {"email": member.email}),
    ):
        for asked in ("en", language):
            Client().post(reverse(name), data, HTTP_ACCEPT_LANGUAGE=asked)
    english = [m for i, m in enumerate(mail.outbox) if i % 2 == 0]
    other = [m for i, m in enumerate(mail.outbox) if i % 2 == 1]
    assert len(english) == len(other) == 2
    left = {}
    for first, second in zip(english, other, strict=True):
        found = left_in_english(
            lines_of(str(first.subject), str(first.body)),
            lines_of(str(second.subject), str(second.body)),
            Typed(),
        )
        if found:
            left[str(first.subject)] = found
    assert not left, report(left)
