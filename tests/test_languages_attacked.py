"""Attacks on the language machinery (issue 19): the switcher, the browser's
Accept-Language, the language cookie, pages cached for one reader and shown to another,
and the emails a job writes to several people in one run, each in their own language.

What is not translated yet is attacked through what already is: Django's own catalogues
write day and month names in each language ("Sonntag", "domingo"), so a date tells which
language a page or an email was written in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from congregations.models import Congregation, Email, Notification, Self
from congregations.services import update_profile
from congregations.tenancy import tenant
from crews.models import Crew
from crews.services import schedule_meeting
from crews.services.reminders import nudge_unlogged_meetings, send_due_reminders
from tests.builders import scheduled_meeting, signed_in
from tests.pages import text

from .factories import PASSWORD, MembershipFactory, SelfFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

LOGIN = reverse("account_login")
SWITCH = reverse("switch_language")
HOME = reverse("home")
COOKIE = settings.LANGUAGE_COOKIE_NAME
SPOKEN = dict(settings.LANGUAGES)


def lang(page: str) -> str:
    return page.split('<html lang="', 1)[1].split('"', 1)[0]


def weekday(moment: datetime, zone: ZoneInfo, language: str) -> str:
    """The day of the week of ``moment`` on ``zone``'s clock, as ``language`` writes it."""
    with translation.override(language):
        return date_format(moment.astimezone(zone), "l")


# --- the switcher ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "elsewhere",
    [
        "https://evil.example/",
        "http://evil.example",
        "//evil.example/x",
        "///evil.example/x",
        "/\\evil.example/x",
        "\\\\evil.example/x",
        "\\/evil.example",
        "/%5Cevil.example",
        "%2F%2Fevil.example",
        "https:evil.example",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " //evil.example",
        "\t//evil.example",
        "\x00//evil.example",
        "evil.example",
        "https://testserver@evil.example/",
        "http://[::1]:80/",
    ],
)
def test_the_switcher_never_sends_anyone_off_the_app(elsewhere: str) -> None:
    response = Client().post(SWITCH, {"language": "es", "next": elsewhere})

    assert response.status_code == 302
    location = response["Location"]
    # A path of this app: one slash, then no second slash or backslash a browser would
    # read as another host.
    assert location.startswith("/"), location
    assert location[1:2] not in ("/", "\\"), location
    assert response.cookies[COOKIE].value == "es"


@pytest.mark.parametrize("back", ["", None])
def test_the_switcher_without_a_page_to_go_back_to_goes_home(back: str | None) -> None:
    data = {"language": "de"} if back is None else {"language": "de", "next": back}

    response = Client().post(SWITCH, data)

    assert (response.status_code, response["Location"]) == (302, HOME)


def test_the_switcher_goes_back_to_the_page_with_its_query(
    congregation: Congregation, member: Self
) -> None:
    page = f"/c/{congregation.slug}/people/?q=ana&page=2"

    response = signed_in(member).post(SWITCH, {"language": "de", "next": page})

    assert response["Location"] == page


@pytest.mark.parametrize(
    "back", ["/x\r\nSet-Cookie: evil=1", "/x\nLocation: https://evil.example/", "/x%0d%0aA: b"]
)
def test_a_line_break_in_next_makes_no_second_header(back: str) -> None:
    response = Client().post(SWITCH, {"language": "es", "next": back})

    assert response.status_code == 302
    assert "\n" not in response["Location"] and "\r" not in response["Location"]
    assert "evil" not in response.cookies
    assert not response.has_header("A")


def test_a_very_long_next_is_harmless() -> None:
    response = Client().post(SWITCH, {"language": "es", "next": "/" + "a" * 20_000})

    assert response.status_code == 302
    assert response["Location"].startswith("/")


def test_a_cross_site_post_without_the_token_changes_nobodys_language(member: Self) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)

    response = client.post(
        SWITCH, {"language": "de", "next": HOME}, HTTP_ORIGIN="https://evil.example"
    )

    assert response.status_code == 403
    assert COOKIE not in response.cookies
    member.refresh_from_db()
    assert member.language == ""


def test_a_visitor_needs_the_token_too() -> None:
    response = Client(enforce_csrf_checks=True).post(SWITCH, {"language": "de", "next": HOME})

    assert response.status_code == 403
    assert COOKIE not in response.cookies


def test_the_switcher_works_with_the_token_the_page_gives(member: Self) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    page = text(client.get(reverse("profile")))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None

    response = client.post(
        SWITCH, {"language": "de", "next": "/profile/", "csrfmiddlewaretoken": token[1]}
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.language == "de"


@pytest.mark.parametrize(
    "code", ["ES", "Es", "es-ES", "es_ES", "de-CH", "fr", "*", "", " es", "es\x00", "e" * 10_000]
)
def test_an_odd_language_code_never_stores_anything_but_a_language_spoken(
    member: Self, code: str
) -> None:
    response = signed_in(member).post(SWITCH, {"language": code, "next": HOME})

    assert response.status_code == 302
    if COOKIE in response.cookies:
        assert response.cookies[COOKIE].value in SPOKEN
    member.refresh_from_db()
    assert member.language in {"", *SPOKEN}


def test_the_switcher_asks_nothing_else_of_a_self_whose_profile_is_incomplete() -> None:
    """A Self made on the server (an operator, the demo) may have no display name: choosing
    a language validates the language, not the rest of their profile."""
    person = Self.objects.create_user("operator@example.net", PASSWORD)

    response = signed_in(person).post(SWITCH, {"language": "de", "next": HOME})

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.language == "de"


def test_a_self_who_left_cannot_choose_for_their_old_account(member: Self) -> None:
    client = signed_in(member)
    Self.objects.filter(pk=member.pk).update(is_active=False, anonymised_at=timezone.now())

    response = client.post(SWITCH, {"language": "de", "next": HOME})

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.language == ""


@pytest.mark.parametrize(
    "cookie", ["xx", "ES", "../../etc/passwd", "de;q=1", "x" * 5_000, "<script>", "en-\u00e9"]
)
def test_a_garbage_cookie_falls_back_to_the_browsers_language(cookie: str) -> None:
    client = Client()
    client.cookies[COOKIE] = cookie

    response = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 200
    # "ES" is Spanish in capitals and "en-é" a variant of English: Django reads them as
    # "es" and "en". Anything else is not a language, and the browser's counts.
    assert lang(text(response)) == {"ES": "es", "en-\u00e9": "en"}.get(cookie, "de")


def test_a_page_chosen_by_cookie_says_it_varies_with_the_cookie() -> None:
    """A shared cache (a proxy, a CDN) must not hand one visitor's language to another."""
    client = Client()
    client.cookies[COOKIE] = "de"

    response = client.get(LOGIN)

    assert response["Content-Language"] == "de"
    vary = {v.strip().lower() for v in response["Vary"].split(",")}
    assert {"cookie", "accept-language"} <= vary


# --- the browser's Accept-Language ------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-419", "es"),
        ("es-419,es;q=0.9,en;q=0.8", "es"),
        ("de-AT", "de"),
        ("de-CH;q=0.9", "de"),
        ("DE-de", "de"),
        ("fr-CH, fr;q=0.9, de;q=0.8, *;q=0.5", "de"),
        ("zh-Hant-TW, zh-Hant;q=0.9, es;q=0.5", "es"),
        ("*", "en"),
        ("en;q=0, es", "es"),
        ("es;q=0.1, de;q=0.9", "de"),
        ("!!!garbage;;;", "en"),
        ("es;q=abc", "en"),
        ("es;q=2", "en"),
        ("\u00e9s", "en"),
        ("", "en"),
        ("es," + ",".join(["xx-yy;q=0.1"] * 1000), "es"),
        (",".join(["xx-yy;q=0.1"] * 1000) + ",es", "en"),
        ("e" * 10_000, "en"),
    ],
)
def test_the_browsers_language_is_read_whatever_it_sends(header: str, expected: str) -> None:
    response = Client().get(LOGIN, HTTP_ACCEPT_LANGUAGE=header)

    assert response.status_code == 200
    assert lang(text(response)) == expected
    assert response["Content-Language"] == expected


@pytest.mark.xfail(
    strict=True,
    reason="Django's LocaleMiddleware takes a language the browser refuses with q=0",
)
def test_a_language_the_browser_refuses_with_q0_is_not_chosen() -> None:
    assert lang(text(Client().get(LOGIN, HTTP_ACCEPT_LANGUAGE="fr, de;q=0"))) == "en"


def test_signing_in_with_a_regional_browser_remembers_the_language() -> None:
    person = SelfFactory.create(email="lena@example.net")

    Client().post(
        LOGIN,
        {"login": person.email, "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="de-CH,de;q=0.9,en;q=0.5",
    )

    person.refresh_from_db()
    assert person.browser_language == "de"


# --- one request's language never reaches the next --------------------------------------


def test_a_german_selfs_request_leaves_nothing_for_the_next_anonymous_one(
    congregation: Congregation, member: Self
) -> None:
    member.language = "de"
    member.save()
    assert lang(text(signed_in(member).get(f"/c/{congregation.slug}/"))) == "de"
    signed_in(member).post(SWITCH, {"language": "de", "next": HOME})

    response = Client().get(LOGIN)

    assert lang(text(response)) == "en"
    assert response["Content-Language"] == "en"


def test_a_visitors_cookie_leaves_nothing_for_the_next_visitor() -> None:
    german = Client()
    german.post(SWITCH, {"language": "de", "next": LOGIN})
    assert lang(text(german.get(LOGIN))) == "de"

    assert lang(text(Client().get(LOGIN, HTTP_ACCEPT_LANGUAGE="es"))) == "es"
    assert lang(text(Client().get(LOGIN))) == "en"


# --- pages cached for one reader, shown to another --------------------------------------

SPANISH_MONTHS = [
    *("enero", "febrero", "marzo", "abril", "mayo", "junio"),
    *("julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"),
]


def test_the_scores_cached_for_a_spanish_reader_are_not_shown_to_an_english_one(
    played: Crew, member: Self, crew_mate: Self
) -> None:
    member.language = "es"
    member.save()
    crew_mate.language = "en"
    crew_mate.save()
    page = reverse(
        "reciprocity:crew_scores",
        kwargs={"congregation_slug": played.congregation.slug, "crew_pk": played.pk},
    )

    # Both signed in first: a sign-in may note their browser's language, which changes
    # the roster's version and so every cached page of it.
    spanish_reader, english_reader = signed_in(member), signed_in(crew_mate)

    spanish = text(spanish_reader.get(page))
    english = text(english_reader.get(page))

    assert lang(spanish) == "es" and lang(english) == "en"
    # The months of the score's history, in Spanish for the Spanish reader...
    assert any(f">{month} " in spanish for month in SPANISH_MONTHS)
    # ...and never for the English one, who comes after.
    assert not [month for month in SPANISH_MONTHS if f">{month} " in english]


def crews_fragment(page: str) -> str:
    return page.split("<h2>Crews and dyads</h2>", 1)[1].split("<h2>", 1)[0]


@pytest.fixture
def german_and_english_readers(member: Self, crew_mate: Self) -> tuple[Client, Client]:
    """The member chose German, the crew-mate English: each signed in."""
    member.language = "de"
    member.save()
    crew_mate.language = "en"
    crew_mate.save()
    return signed_in(member), signed_in(crew_mate)


def test_the_roster_rendered_for_a_german_reader_is_not_the_english_readers_copy(
    crew: Crew, german_and_english_readers: tuple[Client, Client]
) -> None:
    """Whether the fragment is cached per language, whatever its wording: the crew is
    renamed behind the cache's back between the two readers, so the English reader sees
    the new name only if the page was rendered for them."""
    home = f"/c/{crew.congregation.slug}/"
    german_reader, english_reader = german_and_english_readers
    assert crew.name in text(german_reader.get(home))
    with tenant(crew):
        Crew.objects.filter(pk=crew.pk).update(name="Renamed behind the cache")

    english = crews_fragment(text(english_reader.get(home)))

    assert "Renamed behind the cache" in english


def test_the_people_cards_rendered_for_a_german_reader_are_not_the_english_readers_copy(
    congregation: Congregation, neighbour: Self, german_and_english_readers: tuple[Client, Client]
) -> None:
    people = f"/c/{congregation.slug}/people/"
    german_reader, english_reader = german_and_english_readers
    assert neighbour.display_name in text(german_reader.get(people))
    Self.objects.filter(pk=neighbour.pk).update(display_name="Renamed Behind The Cache")

    assert "Renamed Behind The Cache" in text(english_reader.get(people))


# --- emails: each in its recipient's language -------------------------------------------


@pytest.fixture
def three_languages(crew: Crew, member: Self, crew_mate: Self, third: Self) -> dict[str, Self]:
    """The crew's three members: one chose English, one Spanish, and one chose nothing
    but last signed in with a Swiss German browser."""
    member.language = "en"
    member.save()
    crew_mate.language = "es"
    crew_mate.save()
    Client().post(
        LOGIN, {"login": third.email, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="de-CH,de;q=0.9"
    )
    third.refresh_from_db()
    assert (third.language, third.email_language) == ("", "de")
    return {"en": member, "es": crew_mate, "de": third}


def emails_of(crew: Crew, key_start: str) -> dict[int, Email]:
    with tenant(crew):
        return {
            e.recipient_id: e
            for e in Email.objects.filter(key__startswith=key_start)
            if e.recipient_id is not None
        }


@pytest.mark.parametrize("job_language", ["en", "es", "de"])
def test_a_reminder_run_writes_each_body_in_its_recipients_language(
    crew: Crew, three_languages: dict[str, Self], job_language: str
) -> None:
    """Whatever language the job's thread was left in (a request's, the previous
    recipient's), each body is its own recipient's."""
    now = timezone.now()
    meeting = schedule_meeting(
        crew=crew, starts_at=now + timedelta(hours=3), scheduled_by=three_languages["en"], now=now
    )
    with translation.override(job_language):
        assert send_due_reminders(now=now) == 3
        assert translation.get_language() == job_language

    emails = emails_of(crew, f"reminder:{meeting.pk}:")
    for language, person in three_languages.items():
        body = emails[person.pk].body
        assert weekday(meeting.starts_at, person.timezone, language) in body, (language, body)
        for other in {"en", "es", "de"} - {language}:
            assert weekday(meeting.starts_at, person.timezone, other) not in body


def test_a_reminder_runs_subject_is_in_each_recipients_language(
    crew: Crew, three_languages: dict[str, Self]
) -> None:
    now = timezone.now()
    meeting = schedule_meeting(
        crew=crew, starts_at=now + timedelta(hours=3), scheduled_by=three_languages["en"], now=now
    )
    send_due_reminders(now=now)

    emails = emails_of(crew, f"reminder:{meeting.pk}:")
    for language, person in three_languages.items():
        subject = emails[person.pk].subject
        assert weekday(meeting.starts_at, person.timezone, language) in subject, subject


def test_a_log_nudge_email_body_is_in_each_recipients_language(
    crew: Crew, three_languages: dict[str, Self]
) -> None:
    meeting = scheduled_meeting(crew, timezone.now() - timedelta(hours=30))

    with translation.override("es"):
        nudge_unlogged_meetings(now=timezone.now())

    emails = emails_of(crew, f"notice:meeting-to-log:{meeting.pk}:")
    assert len(emails) == 3
    for language, person in three_languages.items():
        body = emails[person.pk].body
        assert weekday(meeting.starts_at, person.timezone, language) in body, (language, body)


def test_a_log_nudges_notification_and_subject_are_in_each_recipients_language(
    crew: Crew, three_languages: dict[str, Self]
) -> None:
    meeting = scheduled_meeting(crew, timezone.now() - timedelta(hours=30))
    closes = meeting.log_closes_at()

    with translation.override("es"):
        nudge_unlogged_meetings(now=timezone.now())

    emails = emails_of(crew, f"notice:meeting-to-log:{meeting.pk}:")
    with tenant(crew):
        told = {
            n.recipient_id: n.text
            for n in Notification.objects.filter(about=f"meeting-to-log:{meeting.pk}")
        }
    for language, person in three_languages.items():
        said = weekday(closes, person.timezone, language)
        assert said in emails[person.pk].subject, emails[person.pk].subject
        assert said in told[person.pk], told[person.pk]


def test_a_job_leaves_the_threads_language_as_it_found_it(
    crew: Crew, three_languages: dict[str, Self]
) -> None:
    now = timezone.now()
    schedule_meeting(
        crew=crew, starts_at=now + timedelta(hours=3), scheduled_by=three_languages["en"], now=now
    )
    translation.activate("en")
    try:
        send_due_reminders(now=now)
        nudge_unlogged_meetings(now=now + timedelta(hours=20))
        assert translation.get_language() == "en"
    finally:
        translation.deactivate()


def test_someone_new_in_the_congregation_follows_their_own_sign_in(
    congregation: Congregation,
) -> None:
    """A second Self signing in with another browser changes only their own language."""
    first = MembershipFactory.create(congregation=congregation).member
    second = MembershipFactory.create(congregation=congregation).member
    for person, header in ((first, "es-MX,es"), (second, "de-AT")):
        Client().post(
            LOGIN, {"login": person.email, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE=header
        )
    first.refresh_from_db()
    second.refresh_from_db()

    assert (first.email_language, second.email_language) == ("es", "de")


# --- the cookie is a visitor's: it never speaks for a Self --------------------------------


def test_a_self_who_goes_back_to_their_browsers_language_gets_it(
    congregation: Congregation, member: Self
) -> None:
    """The switcher left its cookie too; the profile's "the language of my browser" must
    then mean the browser's, not the cookie's."""
    client = signed_in(member)
    client.post(SWITCH, {"language": "de", "next": HOME})
    update_profile(self_=member, language="")

    page = text(client.get(f"/c/{congregation.slug}/", HTTP_ACCEPT_LANGUAGE="es"))

    assert lang(page) == "es"


def test_on_a_shared_device_one_persons_choice_is_not_the_next_persons(
    congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    """Ana chose German and signed out; Ben signs in on the same computer with a Spanish
    browser: he reads Spanish, and his emails are written in Spanish."""
    device = Client()
    device.post(LOGIN, {"login": member.email, "password": PASSWORD})
    device.post(SWITCH, {"language": "de", "next": HOME})
    signed_out = device.post(reverse("account_logout"))
    # Signing out takes the switcher's cookie away with the Self.
    assert signed_out.cookies[COOKIE].value == ""

    device.post(LOGIN, {"login": crew_mate.email, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="es")

    crew_mate.refresh_from_db()
    assert crew_mate.email_language == "es"
    page = text(device.get(f"/c/{congregation.slug}/", HTTP_ACCEPT_LANGUAGE="es"))
    assert lang(page) == "es"


def test_a_visitors_choice_before_signing_in_becomes_their_own(member: Self) -> None:
    """Someone who cannot read English switches the sign-in page to German: they go on
    reading German once signed in, and so do their emails."""
    device = Client()
    device.post(SWITCH, {"language": "de", "next": LOGIN}, HTTP_ACCEPT_LANGUAGE="en-US")

    device.post(LOGIN, {"login": member.email, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en-US")

    member.refresh_from_db()
    assert member.language == "de"
    assert lang(text(device.get(reverse("profile"), HTTP_ACCEPT_LANGUAGE="en-US"))) == "de"


def test_signing_in_adopts_no_cookie_that_names_no_language(member: Self) -> None:
    device = Client()
    device.cookies[COOKIE] = "xx"

    device.post(LOGIN, {"login": member.email, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="es")

    member.refresh_from_db()
    assert (member.language, member.email_language) == ("", "es")


@pytest.mark.parametrize("language", ["en", "es", "de"])
def test_the_switcher_names_each_language_in_itself_whatever_the_pages_language(
    client: Client, language: str
) -> None:
    """Someone who landed on a page in a language they do not read looks for their own
    language's name as they write it: "English", not the Spanish "Inglés" nor the German
    "Englisch"."""
    page = client.get(HOME, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    options = re.findall(r'<option value="(\w+)" lang="\w+"[^>]*>([^<]*)</option>', page)
    assert options == [("en", "English"), ("es", "Español"), ("de", "Deutsch")]


def test_switching_language_on_a_form_shown_again_with_its_errors_goes_back_to_its_page(
    client: Client, crew: Crew, member: Self
) -> None:
    """A form with an error is shown at the address it was sent to, which answers only a
    POST: switching language there went back to it with a GET, a blank "405" page. It goes
    back to the page the form was on."""
    client.force_login(member)
    crew_page = reverse(
        "crews:crew", kwargs={"congregation_slug": crew.congregation.slug, "pk": crew.pk}
    )
    sent_to = reverse(
        "crews:schedule", kwargs={"congregation_slug": crew.congregation.slug, "pk": crew.pk}
    )

    shown = client.post(
        sent_to, {"date": "", "time": "18:30"}, HTTP_REFERER=f"http://testserver{crew_page}"
    )
    assert shown.status_code == 200
    [back] = re.findall(r'<input type="hidden" name="next" value="([^"]*)">', shown.text)
    assert back == crew_page

    switched = client.post(SWITCH, {"language": "de", "next": back}, follow=True)
    assert switched.status_code == 200
    assert lang(switched.text) == "de"


def test_a_form_shown_again_without_a_referer_switches_back_home(
    client: Client, crew: Crew, member: Self
) -> None:
    client.force_login(member)
    sent_to = reverse(
        "crews:schedule", kwargs={"congregation_slug": crew.congregation.slug, "pk": crew.pk}
    )

    for referer in ({}, {"Referer": "https://evil.example/c/x/"}):
        shown = client.post(sent_to, {"date": "", "time": "18:30"}, headers=referer)
        [back] = re.findall(r'<input type="hidden" name="next" value="([^"]*)">', shown.text)
        assert back == HOME
