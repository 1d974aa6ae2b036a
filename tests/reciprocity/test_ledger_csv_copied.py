"""The ledger's CSV as PostgreSQL writes it (COPY): byte for byte what Python writes from
the same rows, in each language and on each reader's clock, for a ledger holding every
rule; behind the congregation's walls; and written by Python where SQL cannot spell the
language's date format."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import formats, translation

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews.models import Crew
from crews.services import form_crew
from microsolidarity.copy_csv import Params
from microsolidarity.formats.en import formats as english_formats
from microsolidarity.spreadsheets import WHITESPACE
from reciprocity.models import LedgerEntry
from reciprocity.reasons_sql import day_key, meeting_days, readable, said
from reciprocity.rules import Level, Rule, meeting_parts
from reciprocity.selectors import entries, export_rows
from reciprocity.selectors.ledger_csv import ledger_csv
from reciprocity.services import (
    apply_missed_meeting_deductions,
    confirm_co_ownership,
    confirm_dispute,
    confirm_resolution,
    expire_open_conflicts,
    open_conflict,
    record_listening_round,
    record_no_resolution,
    register_venture,
    reverse_entry,
)
from reciprocity.sheets import cells, csv_lines, header
from tests.builders import (
    DAY,
    DEADLINE,
    HOUR,
    congregation_url,
    disputed_deduction,
    held_meeting,
    money_round,
    signed_in,
)
from tests.factories import CongregationFactory, MembershipFactory

from .test_reasons_translated import CASES

pytestmark = pytest.mark.django_db

AUCKLAND = ZoneInfo("Pacific/Auckland")
# Readers on either side of the date line, and on the crew's own clock.
READERS = [
    ("en", "Pacific/Kiritimati"),
    ("en", "America/Los_Angeles"),
    ("es", "America/Los_Angeles"),
    ("es", "Europe/Madrid"),
    ("de", "Pacific/Auckland"),
    ("de", "Pacific/Kiritimati"),
]


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    """A request leaves its reader's language active in the thread."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def _entry(
    congregation: Congregation,
    crew: Crew | None,
    member: Self,
    rule: Rule,
    parts: Any,
    key: str,
    at: datetime,
) -> None:
    """An entry straight into the table, with parts the services never write: written
    before they were kept, or by code that knew other legal forms."""
    with tenant(congregation):
        LedgerEntry.objects.create(
            congregation=congregation,
            crew=crew,
            member=member,
            level=Level.CO_OWNERS if crew is None else Level.LISTENING,
            rule=rule,
            points=1,
            reason=f"As written: {key}",
            reason_parts=parts,
            occurred_at=at,
            idempotency_key=key,
        )


@pytest.fixture
def ledger(
    congregation: Congregation, member: Self, crew_mate: Self, facilitator: Self, t0: datetime
) -> Crew:
    """A crew in Auckland whose ledger holds every rule: attendance at meetings one and
    two, a listening round, a money round, a missed meeting, a disputed −5 given back and a
    facilitator's correction, conflicts resolved, unresolved (untitled) and expired; and,
    the member's own, a venture's +100 and entries whose parts SQL does not read. Names
    hold what a CSV must quote and what a spreadsheet would run."""
    member.display_name = "=HYPERLINK(1)"
    member.save()
    # An error value after Python's strip (a no-break space is whitespace to it).
    facilitator.display_name = "#N/A\u00a0"
    facilitator.save()
    crew_mate.display_name = 'Ana "Nana", of the\nhills'
    crew_mate.save()
    third = MembershipFactory.create(congregation=congregation, member__display_name="Zoë").member
    crew = form_crew(
        congregation=congregation,
        name='Kai, "the van" crew',
        members=[member, crew_mate, third],
        timezone=AUCKLAND,
        now=t0 - 90 * DAY,
    )
    # 10:00 in Auckland is the day before in UTC.
    first = held_meeting(crew, now=t0.astimezone(AUCKLAND).replace(hour=11, minute=0))
    record_listening_round(
        meeting=first,
        participants=[member, crew_mate, third],
        everyone_listened=True,
        recorded_by=member,
    )
    money_round(first, focus=crew_mate, offerer=member)
    dispute = disputed_deduction(crew, member, [crew_mate, third], t0 + 7 * DAY)
    confirm_dispute(dispute=dispute, confirmed_by=crew_mate, now=t0 + 12 * DAY)
    held_meeting(crew, [member, crew_mate], t0 + 14 * DAY)
    apply_missed_meeting_deductions(now=t0 + 17 * DAY)
    with tenant(congregation):
        offered = LedgerEntry.objects.get(member=member, rule=Rule.OFFERED)
    reverse_entry(entry=offered, reversed_by=facilitator, reason="Wrong person, sorry")
    titled = open_conflict(
        crew=crew, parties=[member, crew_mate], opened_by=member, title='The van, "again"'
    )
    confirm_resolution(conflict=titled, party=member)
    confirm_resolution(conflict=titled, party=crew_mate)
    untitled = open_conflict(crew=crew, parties=[member, third], opened_by=third)
    record_no_resolution(conflict=untitled, recorded_by=third)
    opened = t0 + 20 * DAY
    open_conflict(
        crew=crew, parties=[member, crew_mate], opened_by=member, title="Noise", now=opened
    )
    expire_open_conflicts(now=opened + DEADLINE + DAY)
    # 23:30 UTC: the next day in Kiritimati, the same one in Los Angeles.
    late = (t0 + 30 * DAY).replace(hour=23, minute=30)
    shared = register_venture(
        congregation=congregation,
        name="Seed library",
        legal_form="coop",
        co_owners=[member, crew_mate],
        registered_by=member,
        now=late - HOUR,
    )
    confirm_co_ownership(venture=shared, co_owner=crew_mate, now=late)
    confirm_co_ownership(venture=shared, co_owner=member, now=late)
    at = t0 + 40 * DAY
    unknown_form = {"venture": "Old pool", "legal_form": "tontine"}
    _entry(congregation, None, member, Rule.CO_OWNED, unknown_form, "old-form", late)
    _entry(congregation, crew, member, Rule.LISTENED, {}, "no-parts", at)
    unreadable = {"starts_at": "yesterday", "crew": "x"}
    _entry(congregation, crew, member, Rule.LISTENED, unreadable, "unreadable", at)
    # Python says these, in its own words: SQL reads only the shape the services write.
    meeting = meeting_parts("Kai", at, AUCKLAND)
    for key, rule, parts in [
        ("nth-as-text", Rule.ATTENDED, {**meeting, "nth": "4"}),
        ("crew-as-number", Rule.LISTENED, {**meeting, "crew": 7}),
        ("a-list", Rule.LISTENED, ["starts_at"]),
    ]:
        _entry(congregation, crew, member, rule, parts, key, at)
    return crew


def python_csv(reader: str, **whose: Any) -> bytes:
    """The CSV as Python writes it (sheets.csv_lines) from export_rows, in the active
    language."""
    with tenant(whose["congregation"]):
        rows = export_rows(entries(**whose))
        lines = csv_lines(cells(rows, ZoneInfo(reader)), header())
        return "".join(lines).encode()


def downloaded(reader: Self, url: str) -> tuple[bytes, list[str]]:
    """The CSV at ``url`` as ``reader`` downloads it, and the queries that wrote it."""
    client = signed_in(reader)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert response.status_code == 200
    return content, [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize(("language", "zone"), READERS)
def test_the_copied_csv_is_the_python_csv_byte_for_byte(
    congregation: Congregation, ledger: Crew, member: Self, language: str, zone: str
) -> None:
    member.language, member.timezone = language, ZoneInfo(zone)
    member.save()
    crew_url = congregation_url("reciprocity:crew_entries_csv", congregation, crew_pk=ledger.pk)
    my_url = congregation_url("reciprocity:my_entries_csv", congregation)

    copied_crew, crew_queries = downloaded(member, crew_url)
    copied_mine, my_queries = downloaded(member, my_url)

    with translation.override(language):
        assert copied_crew == python_csv(zone, congregation=congregation, crew=ledger)
        assert copied_mine == python_csv(zone, congregation=congregation, member_id=member.pk)
    for queries in (crew_queries, my_queries):
        assert sum(sql.startswith("COPY (") for sql in queries) == 1
        assert len(queries) <= 15
    # Every rule is in it, and what a spreadsheet would run is kept text.
    with tenant(congregation):
        rules = set(LedgerEntry.objects.values_list("rule", flat=True))
    assert rules == set(Rule.values)
    assert b",'=HYPERLINK(1)," in copied_mine
    assert ",'#N/A\u00a0,".encode() in copied_crew
    assert b'"Ana ""Nana"", of the\nhills"' in copied_crew


def test_the_reader_s_clock_dates_what_names_no_day(
    congregation: Congregation, ledger: Crew, member: Self
) -> None:
    """The venture's +100, at 23:30 UTC, is a day apart on either side of the date line."""
    url = congregation_url("reciprocity:my_entries_csv", congregation)
    days = set()
    for zone in ("Pacific/Kiritimati", "America/Los_Angeles"):
        member.timezone = ZoneInfo(zone)
        member.save()
        content, _ = downloaded(member, url)
        days.add(next(line for line in content.split(b"\r\n") if b"Seed library" in line)[:10])
    assert len(days) == 2


@pytest.fixture
def weekday_in_english_dates() -> Iterator[None]:
    """English dates name the weekday ("l"), which SQL here does not spell."""
    formats.reset_format_cache()
    before = english_formats.DATE_FORMAT
    english_formats.DATE_FORMAT = "l j F Y"
    yield
    english_formats.DATE_FORMAT = before
    formats.reset_format_cache()


def test_a_date_format_sql_cannot_spell_is_written_by_python(
    congregation: Congregation, ledger: Crew, member: Self, weekday_in_english_dates: None
) -> None:
    url = congregation_url("reciprocity:crew_entries_csv", congregation, crew_pk=ledger.pk)

    content, queries = downloaded(member, url)

    assert not any(sql.startswith("COPY (") for sql in queries)
    with translation.override("en"):
        assert content == python_csv("UTC", congregation=congregation, crew=ledger)
    # "Kai, ""the van"" crew, Tuesday 4 March 2025": the weekday is there.
    assert re.search(rb"crew, (Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day \d", content)


def test_another_congregation_s_rows_never_appear(
    congregation: Congregation, ledger: Crew, member: Self, t0: datetime
) -> None:
    """The member meets with a crew of another congregation too. The COPY reads behind the
    walls of the congregation in scope: asked for the other's crew, the database shows it
    none of its rows, and the member's own CSV holds none of them either."""
    elsewhere = CongregationFactory.create(name="Elsewhere")
    MembershipFactory.create(congregation=elsewhere, member=member)
    theirs = [member, *(MembershipFactory.create(congregation=elsewhere).member for _ in "ab")]
    crew = form_crew(
        congregation=elsewhere, name="Elsewhere crew", members=theirs, now=t0 - 90 * DAY
    )
    held_meeting(crew)

    def copied(walls: Congregation) -> list[bytes]:
        with tenant(walls):
            lines = ledger_csv(congregation=elsewhere, crew=crew, reader=ZoneInfo("UTC"))
            assert lines is not None
            return b"".join(lines).split(b"\r\n")[1:-1]

    assert len(copied(elsewhere)) == 3  # each came
    assert copied(congregation) == []
    response = signed_in(theirs[1]).get(
        congregation_url("reciprocity:crew_entries_csv", congregation, crew_pk=ledger.pk)
    )
    assert response.status_code == 404
    mine, _ = downloaded(member, congregation_url("reciprocity:my_entries_csv", congregation))
    assert b"Elsewhere" not in mine
    with translation.override("en"):
        assert mine == python_csv(
            str(member.timezone), congregation=congregation, member_id=member.pk
        )


def test_sql_strips_the_whitespace_python_strips() -> None:
    assert (
        "".join(
            character for character in map(chr, range(sys.maxunicode + 1)) if character.isspace()
        )
        == WHITESPACE
    )


@pytest.mark.parametrize(("rule", "parts", "english", "spanish", "german"), CASES)
def test_sql_says_each_rule_s_reason_as_python_does(
    rule: Rule, parts: dict[str, Any], english: str, spanish: str, german: str
) -> None:
    """Every reason but a correction's is said by SQL, from the parts the services write."""
    for language, expected in [("en", english), ("es", spanish), ("de", german)]:
        with translation.override(language):
            params = Params(rule=rule.value, parts=json.dumps(parts))
            entry = ("e.rule", "e.parts", f"d.day ->> {day_key('e.parts')}")
            select = (
                "WITH entry AS (SELECT %(rule)s::text AS rule, %(parts)s::jsonb AS parts)"
                f" SELECT {readable(*entry, params)}, {said(*entry, params)} FROM entry e"
                f" CROSS JOIN (SELECT {meeting_days('entry', 'parts', params)} AS day) d"
            )
            with connection.cursor() as cursor:
                cursor.execute(select, params)
                can_read, text = cursor.fetchone()
        if rule == Rule.REVERSAL:
            assert not can_read
        else:
            assert can_read
            assert text == expected
