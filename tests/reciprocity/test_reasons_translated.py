"""A ledger entry's reason reads in its reader's language: each entry keeps what its
reason names (reason_parts), and one function says it in the active language, dates
included; in English exactly as the ledger has always written it. A row written before
the parts were kept shows the reason it was written with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews.models import Crew
from reciprocity.models import LedgerEntry
from reciprocity.rules import (
    Rule,
    corrected_parts,
    entry_reason,
    localized_reason,
    meeting_parts,
    written_reason,
)
from tests.builders import congregation_url, long_ledger, signed_in
from tests.pages import text

from .test_views_scores import queries

pytestmark = pytest.mark.django_db

MADRID = ZoneInfo("Europe/Madrid")
# 23:30 UTC on 4 March is already 5 March in Madrid: the day is the meeting's own.
STARTS = datetime(2025, 3, 4, 23, 30, tzinfo=UTC)
MEETING = meeting_parts("Robles", STARTS, MADRID)
OLD_LABEL = "Robles, 5 March 2025"  # how the ledger wrote a meeting before

# Each rule: its parts, then its reason in English (as entry_reason wrote it), Spanish
# and German.
CASES: list[tuple[Rule, dict[str, Any], str, str, str]] = [
    (
        Rule.LISTENED,
        MEETING,
        entry_reason(Rule.LISTENED, meeting=OLD_LABEL),
        "Todos escucharon a todos: Robles, 5 de marzo de 2025",
        "Alle haben allen zugehört: Robles, 5. März 2025",
    ),
    (
        Rule.ASKED,
        MEETING,
        entry_reason(Rule.ASKED, meeting=OLD_LABEL),
        "Pidió algo que necesita: Robles, 5 de marzo de 2025",
        "Um etwas gebeten, das gebraucht wird: Robles, 5. März 2025",
    ),
    (
        Rule.OFFERED,
        {**MEETING, "focus": "Ana"},
        entry_reason(Rule.OFFERED, meeting=OLD_LABEL, focus="Ana"),
        "Ofreció algo a Ana: Robles, 5 de marzo de 2025",
        "Ana etwas angeboten: Robles, 5. März 2025",
    ),
    (
        Rule.MUTUAL_RESPECT,
        MEETING,
        entry_reason(Rule.MUTUAL_RESPECT, meeting=OLD_LABEL),
        "Una ronda del dinero con respeto mutuo: Robles, 5 de marzo de 2025",
        "Eine Geldrunde mit gegenseitigem Respekt: Robles, 5. März 2025",
    ),
    (
        Rule.ATTENDED,
        {**MEETING, "nth": 3},
        entry_reason(Rule.ATTENDED, meeting=OLD_LABEL, nth=3),
        "Reunión número 3 con el equipo: Robles, 5 de marzo de 2025",
        "Treffen Nummer 3 mit der Crew: Robles, 5. März 2025",
    ),
    (
        Rule.MISSED,
        MEETING,
        entry_reason(Rule.MISSED, meeting=OLD_LABEL),
        "Faltó a la reunión: Robles, 5 de marzo de 2025",
        "Treffen verpasst: Robles, 5. März 2025",
    ),
    (
        Rule.RESOLVED,
        {"conflict": "The borrowed van"},
        entry_reason(Rule.RESOLVED, conflict="The borrowed van"),
        "Resuelto juntos: The borrowed van",
        "Gemeinsam gelöst: The borrowed van",
    ),
    (
        Rule.UNRESOLVED,
        {"conflict": "", "crew": "Robles"},
        entry_reason(Rule.UNRESOLVED, conflict="conflict in Robles"),
        "Sin una solución aceptable: conflicto en Robles",
        "Keine annehmbare Lösung: Konflikt in Robles",
    ),
    (
        Rule.EXPIRED,
        {"conflict": "The borrowed van"},
        entry_reason(Rule.EXPIRED, conflict="The borrowed van"),
        "Aún abierto pasado su plazo: The borrowed van",
        "Nach Fristende noch offen: The borrowed van",
    ),
    (
        Rule.CO_OWNED,
        {"venture": "Seed library", "legal_form": "coop"},
        entry_reason(Rule.CO_OWNED, venture="Seed library", legal_form="co-op"),
        "Cotitular de Seed library (cooperativa)",
        "Miteigentümer*in von Seed library (Genossenschaft)",
    ),
    (
        Rule.REVERSAL,
        {
            "corrected": corrected_parts(
                Rule.LISTENED, MEETING, entry_reason(Rule.LISTENED, meeting=OLD_LABEL)
            ),
            "member": "Fern Walker",
            "points": 1,
            "why": "wrong meeting",
        },
        "Reversed Fern Walker’s +1 for “Everyone listened to everyone: Robles, 5 March "
        "2025”: wrong meeting",
        "Se revierten los +1 de Fern Walker por «Todos escucharon a todos: Robles, 5 de "
        "marzo de 2025»: wrong meeting",
        "+1 von Fern Walker rückgängig gemacht für „Alle haben allen zugehört: Robles, "
        "5. März 2025“: wrong meeting",
    ),
    (
        Rule.REVERSAL,
        {
            "corrected": corrected_parts(
                Rule.MISSED, MEETING, entry_reason(Rule.MISSED, meeting=OLD_LABEL)
            ),
            "member": "Ana",
            "points": -5,
            "disputer": "Ana",
            "confirmer": "Bo",
        },
        "Reversed Ana’s −5 for “Missed the meeting: Robles, 5 March 2025”: Ana was at the "
        "meeting, as Bo, who was there too, confirmed",
        "Se revierten los −5 de Ana por «Faltó a la reunión: Robles, 5 de marzo de 2025»: "
        "Ana estuvo en la reunión, como confirmó Bo, que también estuvo",
        "−5 von Ana rückgängig gemacht für „Treffen verpasst: Robles, 5. März 2025“: Ana "
        "war beim Treffen, wie Bo bestätigt hat, der*die auch dort war",
    ),
]


@pytest.mark.parametrize(("rule", "parts", "english", "spanish", "german"), CASES)
def test_an_entry_of_each_rule_reads_in_its_readers_language(
    rule: Rule, parts: dict[str, Any], english: str, spanish: str, german: str
) -> None:
    # As written, in English, word for word as before the parts were kept.
    assert written_reason(rule, parts) == english
    for language, expected in [("en", english), ("es", spanish), ("de", german)]:
        with translation.override(language):
            assert localized_reason(rule, parts, english) == expected


def test_a_correction_of_an_old_entry_quotes_its_reason_as_written() -> None:
    parts = {
        "corrected": corrected_parts(Rule.LISTENED, {}, "Everyone listened: an old label"),
        "member": "Ana",
        "points": 1,
        "why": "wrong meeting",
    }
    with translation.override("es"):
        assert localized_reason(Rule.REVERSAL, parts, "") == (
            "Se revierten los +1 de Ana por «Everyone listened: an old label»: wrong meeting"
        )


def test_a_row_without_parts_shows_its_stored_reason(
    congregation: Congregation, crew: Crew, member: Self
) -> None:
    long_ledger(crew, 1)
    with tenant(crew):
        old = LedgerEntry.objects.get()
    assert old.reason_parts == {}
    with translation.override("de"):
        assert old.localized_reason == "A point for the size test"
    # Parts this code cannot read fall back the same way.
    assert localized_reason(Rule.MISSED, {"crew": "Robles"}, "as written") == "as written"


def test_the_services_write_the_parts_and_the_english_reason(
    congregation: Congregation, played: Crew, member: Self
) -> None:
    with tenant(played):
        entries = list(LedgerEntry.objects.filter(member=member))
    assert entries
    for entry in entries:
        assert entry.reason_parts
        assert written_reason(Rule(entry.rule), entry.reason_parts) == entry.reason
        with translation.override("en"):
            assert entry.localized_reason == entry.reason


def test_the_entries_page_in_spanish_shows_spanish_reasons_in_as_many_queries(
    congregation: Congregation, played: Crew, member: Self
) -> None:
    path = congregation_url("reciprocity:my_entries", congregation)
    english = signed_in(member)
    in_english = queries(english, path)
    page = text(english.get(path))
    assert "Meeting number 1 with the crew: " in page

    spanish = signed_in(member)
    spanish.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    assert queries(spanish, path) == in_english
    page = text(spanish.get(path))
    assert "Reunión número 1 con el equipo: " in page
    assert "Una ronda del dinero con respeto mutuo: " in page
    assert " de 20" in page  # the meeting's day, as in "5 de marzo de 2025"
    assert "Meeting number" not in page


def test_the_spreadsheet_says_the_reasons_in_the_readers_language(
    congregation: Congregation, played: Crew, member: Self
) -> None:
    client = signed_in(member)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "de"
    response = client.get(congregation_url("reciprocity:my_entries_csv", congregation))
    content = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert "Treffen Nummer 1 mit der Crew: " in content
    assert "Meeting number" not in content
