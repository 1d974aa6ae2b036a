"""The game in Spanish and German: its pages, its chart, its spreadsheet's header, what
waits for a Self, and the notifications and emails it sends, each in its reader's language."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.http import StreamingHttpResponse
from django.test import Client
from django.utils import translation

from congregations.models import Congregation, Email, Notification, Self
from congregations.request_keys import new_request_key
from congregations.tenancy import tenant
from crews.models import Crew
from reciprocity.services import open_conflict, register_venture

from ..builders import congregation_url
from ..pages import text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    """A request leaves its language active in the thread (LocaleMiddleware never
    deactivates it): the tests after these ones run in English, as they expect."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def reading(self_: Self, language: str) -> Client:
    """A client signed in as ``self_`` whose browser asks for ``language``."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(self_)
    return client


def waiting_section(client: Client, url: str) -> str:
    page = client.get(url).content.decode()
    found = re.search(r'<section id="waiting".*?</section>', page, re.S)
    assert found, "the page has no #waiting section"
    return found.group(0)


def test_the_scores_page_and_its_chart_are_in_german(
    congregation: Congregation, played: Crew, member: Self
) -> None:
    url = congregation_url("reciprocity:crew_scores", congregation, crew_pk=played.pk)

    german = reading(member, "de").get(url)

    page = german.content.decode()
    assert '<html lang="de"' in page
    words = text(german)
    assert "Tuesday crew: Punktestand der Gegenseitigkeit" in words
    assert "Der Punktestand jedes Mitglieds" in words
    assert "Die Zahlen, Monat für Monat" in words
    assert "Wie man Punkte bekommt" in words
    # The chart: its title and description, its axes, its caption.
    assert (
        '<title id="chart-title">Der Punktestand von Tuesday crew im Lauf der Zeit</title>' in page
    )
    assert "Die laufende Summe der Crew am Ende jedes Monats" in page
    assert ">Punkte</text>" in page and ">Monat</text>" in page
    assert "reciprocity" not in words.lower().replace("reciprocity:", "")
    # The cached part of the page is kept per language: English readers still get English.
    english = reading(member, "en").get(url)
    assert "Tuesday crew: reciprocity scores" in text(english)
    assert "Each member’s score" in text(english)
    assert ">points</text>" in english.content.decode()


def test_a_crews_entries_download_in_spanish_has_a_spanish_header(
    congregation: Congregation, played: Crew, member: Self
) -> None:
    member.display_name = "=HYPERLINK(1)"
    member.save()

    response = reading(member, "es").get(
        congregation_url("reciprocity:crew_entries_csv", congregation, crew_pk=played.pk)
    )

    assert isinstance(response, StreamingHttpResponse)
    content = b"".join(response.streaming_content)
    assert content.startswith(codecs.BOM_UTF8)
    header, *body = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert header == [
        "fecha",
        "miembro",
        "equipo",
        "nivel",
        "regla",
        "puntos",
        "motivo",
        "anotado por",
        "anula",
    ]
    # The cells stay as they are, and one a spreadsheet would run stays text.
    assert "'=HYPERLINK(1)" in {row[1] for row in body}
    assert "=HYPERLINK(1)" not in {row[1] for row in body}


def test_a_conflict_opened_in_english_asks_a_spanish_speaker_in_spanish(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self
) -> None:
    crew_mate.language = "es"
    crew_mate.save()

    response = reading(member, "en").post(
        congregation_url("reciprocity:open_conflict", congregation, crew_pk=crew.pk),
        {
            "request_key": new_request_key(congregation),
            "title": "The borrowed van",
            "parties": [crew_mate.pk],
        },
        follow=True,
    )

    # The one who opened it reads English.
    assert "The conflict is open. Only its parties can see it." in text(response)
    with tenant(congregation):
        told = Notification.objects.get(recipient=crew_mate, about__startswith="conflict:")
        email = Email.objects.get(recipient=crew_mate)
    assert told.text.startswith(
        f"{member} abrió un conflicto contigo en Tuesday crew: «The borrowed van». "
        "Resolvedlo juntos antes del "
    )
    assert re.search(r"antes del \w+ \d+ de \w+\.$", told.text), told.text
    assert email.subject == f"{member} abrió un conflicto contigo: «The borrowed van»"
    assert email.body.startswith(f"Hola, {crew_mate.display_name}:\n\n")
    assert "Aquí un conflicto es un registro privado entre compañeros de equipo." in email.body
    assert "Míralo y confirma una solución aquí: " in email.body
    assert "Hello" not in email.body and "conflict with you" not in email.body


def test_what_waits_is_listed_in_german(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self
) -> None:
    with translation.override("en"):
        open_conflict(
            crew=crew, parties=[member, crew_mate], opened_by=member, title="Der Transporter"
        )
        register_venture(
            congregation=congregation,
            name="Werkzeugbibliothek",
            legal_form="coop",
            co_owners=[member, crew_mate],
            registered_by=member,
        )

    section = waiting_section(
        reading(crew_mate, "de"), congregation_url("crews:congregation", congregation)
    )

    assert "Wartet auf dich" in section
    assert "„Der Transporter“ in Tuesday crew: löst ihn gemeinsam und bestätigt es." in section
    assert "Bestätige deinen Anteil an Werkzeugbibliothek" in section
    assert "Bis <time" in section
    assert "Waiting for you" not in section and "resolve it together" not in section


@pytest.mark.parametrize(
    ("language", "one", "many"),
    [
        ("en", "1 entry, newest first.", "entries, newest first."),
        ("es", "1 anotación, la más reciente primero.", "anotaciones, las más recientes primero."),
        ("de", "1 Eintrag, der neueste zuerst.", "Einträge, die neuesten zuerst."),
    ],
)
def test_the_count_of_entries_has_its_plural_form_in_each_language(
    congregation: Congregation, played: Crew, member: Self, language: str, one: str, many: str
) -> None:
    client = reading(member, language)
    url = congregation_url("reciprocity:crew_entries", congregation, crew_pk=played.pk)

    # The member's +1 for coming to the one meeting is one entry; the crew's are several.
    assert one in text(client.get(url, {"level": 3, "member": member.pk}))
    assert many in text(client.get(url))
