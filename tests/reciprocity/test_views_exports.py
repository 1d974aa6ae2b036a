"""Spreadsheet downloads (CSV and .xlsx): one's own entries, and a crew's for its members."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews.models import Crew
from crews.services import form_crew, log_meeting
from reciprocity.models import LedgerEntry
from reciprocity.services import confirm_co_ownership, reverse_entry
from tests.builders import (
    congregation_url,
    long_ledger,
    money_round,
    people,
    scheduled_meeting,
    signed_in,
    venture,
)
from tests.factories import MembershipFactory
from tests.pages import text

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

HEADER = ["date", "member", "crew", "level", "rule", "points", "reason", "recorded by", "reverses"]


def rows(response: Any) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    content = b"".join(response.streaming_content)  # type: ignore[arg-type]
    assert content.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_a_member_downloads_their_own_entries(
    congregation: Congregation, played: Crew, member: Self, crew_mate: Self
) -> None:
    response = signed_in(member).get(congregation_url("reciprocity:my_entries_csv", congregation))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="kotahi-my-entries.csv"'
    logger = people(played)[0].display_name  # who logged the meeting
    header, *body = rows(response)
    assert header == HEADER
    with tenant(congregation):
        started = LedgerEntry.objects.filter(member=member).values_list("occurred_at", flat=True)[0]
    assert {row[0] for row in body} == {started.astimezone(member.timezone).date().isoformat()}
    assert sorted((r[1], r[2], r[3], r[4], r[5], r[7]) for r in body) == sorted(
        [
            (
                member.display_name,
                played.name,
                "Consistency",
                "met with their crew",
                "1",
                logger,
            ),
            (
                member.display_name,
                played.name,
                "Money",
                "offered the focus person something",
                "5",
                crew_mate.display_name,
            ),
            (
                member.display_name,
                played.name,
                "Money",
                "talked and listened with mutual respect",
                "1",
                crew_mate.display_name,
            ),
        ]
    )
    assert {row[8] for row in body} == {""}


def test_a_crew_member_downloads_the_crews_entries_with_corrections(
    congregation: Congregation,
    played: Crew,
    member: Self,
    crew_mate: Self,
    facilitator: Self,
) -> None:
    with tenant(congregation):
        wrong = LedgerEntry.objects.get(member=member, rule="offered")
    reverse_entry(entry=wrong, reversed_by=facilitator, reason="Wrong person")

    body = rows(
        signed_in(crew_mate).get(
            congregation_url("reciprocity:crew_entries_csv", congregation, crew_pk=played.pk)
        )
    )[1:]

    with tenant(congregation):
        assert len(body) == LedgerEntry.objects.filter(crew=played).count() == 3 + 2 + 2 + 1
    correction = next(row for row in body if row[4] == "correction")
    assert correction[1] == member.display_name
    assert correction[5] == "-5"
    assert correction[7] == facilitator.display_name
    assert correction[8].endswith(
        f"+5 Offered {crew_mate.display_name} something: {wrong.reason.split(': ', 1)[1]}"
    )


def test_a_name_a_spreadsheet_would_run_is_kept_as_text(
    congregation: Congregation, played: Crew, member: Self
) -> None:
    member.display_name = "=HYPERLINK(1)"
    member.save()

    body = rows(
        signed_in(member).get(congregation_url("reciprocity:my_entries_csv", congregation))
    )[1:]

    assert {row[1] for row in body} == {"'=HYPERLINK(1)"}


def test_a_long_export_reads_the_ledger_in_two_queries_at_most(
    congregation: Congregation, crew: Crew, member: Self
) -> None:
    long_ledger(crew, 5_000)
    client = signed_in(member)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(
            congregation_url("reciprocity:crew_entries_csv", congregation, crew_pk=crew.pk)
        )
        exported = rows(response)

    assert len(exported) == 5_001
    ledger_queries = [q for q in captured.captured_queries if "reciprocity_ledgerentry" in q["sql"]]
    # On PostgreSQL, the entries Python says (corrections), then the COPY of them all; on
    # SQLite, the rows read in chunks.
    assert len(ledger_queries) <= 2
    if connection.vendor == "postgresql":
        assert [query["sql"].startswith("COPY (") for query in ledger_queries] == [False, True]


@pytest.mark.parametrize("sheet", ["csv", "xlsx"])
def test_exports_take_a_get_only(
    congregation: Congregation, played: Crew, member: Self, sheet: str
) -> None:
    client = signed_in(member)
    assert (
        client.post(congregation_url(f"reciprocity:my_entries_{sheet}", congregation)).status_code
        == 405
    )
    assert (
        client.post(
            congregation_url(f"reciprocity:crew_entries_{sheet}", congregation, crew_pk=played.pk)
        ).status_code
        == 405
    )


# Spreadsheets: what Excel and LibreOffice read from a double-click


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_NAME = "=1+1"


@pytest.fixture
def antipodes(congregation: Congregation, member: Self, crew_mate: Self) -> Crew:
    """A crew meeting in Auckland at 10:00, the day before in Los Angeles, where the member
    reads from. The member is Zoë Ñúñez; the crew-mate has a name a spreadsheet would run.
    The member offered, the crew-mate asked, with mutual respect."""
    member.display_name, member.timezone = "Zoë Ñúñez", ZoneInfo("America/Los_Angeles")
    member.save()
    crew_mate.display_name = FORMULA_NAME
    crew_mate.save()
    third = MembershipFactory.create(congregation=congregation).member
    crew = form_crew(
        congregation=congregation,
        name="Ōtautahi crew",
        members=[member, crew_mate, third],
        timezone="Pacific/Auckland",
        now=timezone.now() - timedelta(days=180),
    )
    auckland = timezone.now().astimezone(AUCKLAND) - timedelta(days=1)
    starts_at = auckland.replace(hour=10, minute=0, second=0, microsecond=0)
    meeting = log_meeting(
        meeting=scheduled_meeting(crew, starts_at),
        present=[member, crew_mate, third],
        logged_by=member,
        now=starts_at + timedelta(hours=1),
    )
    money_round(meeting, focus=crew_mate, offerer=member)
    return crew


AUCKLAND = ZoneInfo("Pacific/Auckland")


def meeting_day(crew: Crew) -> date:
    with tenant(crew):
        return crew.meetings.get().starts_at.astimezone(AUCKLAND).date()


def page_rows(client: Client, url: str) -> list[list[str]]:
    """The entries a page shows, oldest first, as an export writes them; its text shows
    each one's reason and day."""
    response = client.get(url)
    shown = text(response)
    found = []
    for entry in reversed(response.context["page"].object_list):
        assert entry.reason in shown
        assert f"{entry.day.day} {entry.day:%b %Y}" in shown
        found.append(
            [
                entry.day.isoformat(),
                entry.member.display_name,
                entry.crew.name,
                entry.get_level_display(),
                entry.get_rule_display(),
                str(entry.points),
                entry.reason,
                entry.recorded_by.display_name,
                "",
            ]
        )
    return found


def kept_as_text(cells: list[str]) -> list[str]:
    return ["'" + cell if cell == FORMULA_NAME else cell for cell in cells]


def test_the_csv_opens_as_utf_8_with_the_day_the_reasons_name(
    congregation: Congregation, antipodes: Crew, member: Self
) -> None:
    client = signed_in(member)
    response = client.get(
        congregation_url("reciprocity:crew_entries_csv", congregation, crew_pk=antipodes.pk)
    )

    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert content.startswith(codecs.BOM_UTF8)  # Excel and LibreOffice then read UTF-8
    header, *body = csv.reader(io.StringIO(content.decode("utf-8-sig")))
    assert header == HEADER
    shown = page_rows(
        client, congregation_url("reciprocity:crew_entries", congregation, crew_pk=antipodes.pk)
    )
    assert body == [kept_as_text(row) for row in shown]
    day = meeting_day(antipodes)
    # Auckland's day, the one every reason names, not the reader's day before in LA.
    assert {row[0] for row in body} == {day.isoformat()}
    assert all(row[6].endswith(f"Ōtautahi crew, {day.day} {day:%B %Y}") for row in body)
    assert {row[1] for row in body} >= {"Zoë Ñúñez", "'=1+1"}
    assert {row[5] for row in body} == {"1", "5"}


def test_the_xlsx_holds_the_same_rows_in_typed_cells(
    congregation: Congregation, antipodes: Crew, member: Self
) -> None:
    client = signed_in(member)
    response = client.get(
        congregation_url("reciprocity:crew_entries_xlsx", congregation, crew_pk=antipodes.pk)
    )

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == (
        f'attachment; filename="kotahi-crew-{antipodes.pk}-entries.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet.freeze_panes == "A2"
    header, *body = sheet.iter_rows()
    assert [cell.value for cell in header] == HEADER
    assert all(cell.font.b for cell in header)
    assert all(sheet.column_dimensions[cell.column_letter].width >= 8 for cell in header)
    day = meeting_day(antipodes)
    assert {(row[0].is_date, row[0].value.date()) for row in body} == {(True, day)}
    assert {type(row[5].value) for row in body} == {int}
    assert {row[5].value for row in body} == {1, 5}
    formula = [row[1] for row in body if row[1].value == FORMULA_NAME]
    assert formula and {(c.data_type, c.quotePrefix) for c in formula} == {("s", True)}
    shown = page_rows(
        client, congregation_url("reciprocity:crew_entries", congregation, crew_pk=antipodes.pk)
    )
    as_text = [
        [row[0].value.date().isoformat(), *(str(c.value or "") for c in row[1:])] for row in body
    ]
    assert as_text == shown


@pytest.mark.parametrize("text", ["+x", "-x", "@x", "\tx", "\rx", "=HYPERLINK(1)"])
def test_formula_looking_text_stays_text_in_both_formats(
    congregation: Congregation, played: Crew, member: Self, text: str
) -> None:
    member.display_name = text
    member.save()
    client = signed_in(member)

    csv_body = rows(client.get(congregation_url("reciprocity:my_entries_csv", congregation)))[1:]
    xlsx = client.get(congregation_url("reciprocity:my_entries_xlsx", congregation))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    names = [row[1] for row in sheet.iter_rows(min_row=2)]

    assert {row[1] for row in csv_body} == {"'" + text}
    # XML reads a carriage return in a cell's text as a line feed; it stays text.
    xml_text = text.replace("\r", "\n")
    assert {(c.value, c.data_type, c.quotePrefix) for c in names} == {(xml_text, "s", True)}


@pytest.mark.parametrize("name", ["my_entries_csv", "my_entries_xlsx"])
def test_a_member_s_own_export_falls_back_to_their_clock_for_level_five(
    congregation: Congregation, member: Self, crew_mate: Self, name: str
) -> None:
    """A co-owner's +100 has no crew and names no day: it is dated on the reader's clock."""
    member.timezone = ZoneInfo("Pacific/Kiritimati")  # UTC+14: a day ahead of UTC for 14h
    member.save()
    shared = venture(congregation, member, crew_mate)
    confirm_co_ownership(venture=shared, co_owner=crew_mate)
    confirm_co_ownership(venture=shared, co_owner=member)
    with tenant(congregation):
        at = LedgerEntry.objects.get(member=member).occurred_at

    response = signed_in(member).get(congregation_url(f"reciprocity:{name}", congregation))

    if name.endswith("_csv"):
        [[day, *_]] = rows(response)[1:]
    else:
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet is not None
        day = sheet["A2"].value.date().isoformat()
    assert day == at.astimezone(member.timezone).date().isoformat()


@pytest.mark.parametrize("name", ["crew_entries_csv", "crew_entries_xlsx"])
def test_an_export_reads_its_rows_in_the_same_queries_however_many(
    congregation: Congregation, crew: Crew, member: Self, name: str
) -> None:
    client = signed_in(member)
    url = congregation_url(f"reciprocity:{name}", congregation, crew_pk=crew.pk)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
            b"".join(response) if response.streaming else response.content
        return len(captured.captured_queries)

    long_ledger(crew, 3)
    few = queries()
    long_ledger(crew, 3_000, start=3)
    # The session, the Self, the walls, the membership, the crew and one query for the rows.
    assert queries() == few <= 15


@pytest.mark.parametrize("name", ["my_entries_csv", "my_entries_xlsx"])
def test_another_congregation_s_member_gets_404(
    congregation: Congregation, played: Crew, outsider: Self, name: str
) -> None:
    response = signed_in(outsider).get(congregation_url(f"reciprocity:{name}", congregation))
    assert response.status_code == 404


@pytest.mark.parametrize("offering", ["me", "crew_scores", "my_entries", "crew_entries"])
def test_each_page_that_offers_the_csv_offers_the_xlsx_beside_it(
    congregation: Congregation, played: Crew, member: Self, offering: str
) -> None:
    crew = {"crew_pk": played.pk} if offering.startswith("crew") else {}
    shown = text(
        signed_in(member).get(congregation_url(f"reciprocity:{offering}", congregation, **crew))
    )
    kind = "crew" if crew else "my"
    csv_link = congregation_url(f"reciprocity:{kind}_entries_csv", congregation, **crew)
    xlsx_link = congregation_url(f"reciprocity:{kind}_entries_xlsx", congregation, **crew)
    assert f'href="{csv_link}"' in shown
    assert f'href="{xlsx_link}"' in shown


def test_the_entry_list_dates_corrections_without_a_query_each(
    congregation: Congregation, played: Crew, crew_mate: Self, facilitator: Self
) -> None:
    """Each entry's day is read on its meeting's or crew's clock, and so is the day of the
    entry a correction reverses: read with the page's one query for the entries."""
    client = signed_in(crew_mate)
    url = congregation_url("reciprocity:crew_entries", congregation, crew_pk=played.pk)
    with tenant(congregation):
        scored = list(LedgerEntry.objects.exclude(member=facilitator).order_by("pk"))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        return len(captured.captured_queries)

    reverse_entry(entry=scored[0], reversed_by=facilitator, reason="Wrong meeting")
    one = queries()
    for entry in scored[1:4]:
        reverse_entry(entry=entry, reversed_by=facilitator, reason="Wrong meeting")
    assert queries() == one
