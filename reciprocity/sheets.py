"""Ledger entries as a spreadsheet: the same typed rows written as CSV or as .xlsx, each
opening right with a double-click in Excel and LibreOffice, with one rule for text a
spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, tzinfo
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, pgettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from microsolidarity.spreadsheets import cell, formula_like

from .rules import Level, Rule, entry_day, localized_reason

# Each column's heading, in the language of whoever downloads it, and its width in an
# .xlsx, in characters. The cells below stay as they are.
COLUMNS = [
    (pgettext_lazy("spreadsheet column", "date"), 11),
    (pgettext_lazy("spreadsheet column", "member"), 24),
    # Translators: A crew is a small group of 3–8 people who meet about once a month.
    (pgettext_lazy("spreadsheet column", "crew"), 22),
    (pgettext_lazy("spreadsheet column", "level"), 13),
    (pgettext_lazy("spreadsheet column", "rule"), 36),
    (pgettext_lazy("spreadsheet column", "points"), 8),
    (pgettext_lazy("spreadsheet column", "reason"), 70),
    (pgettext_lazy("spreadsheet column", "recorded by"), 24),
    # Translators: The column naming the entry a correction reverses.
    (pgettext_lazy("spreadsheet column", "reverses"), 70),
]


def header() -> list[str]:
    """The header row in the current language: call it while the request's is active (a
    CSV's lines are written after the view returns)."""
    return [str(heading) for heading, _ in COLUMNS]


Cell = date | int | str

# Without it Excel, and LibreOffice's import, read UTF-8 as a legacy codepage (Zoë: ZoÃ«).
BOM = "\ufeff"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cells(rows: Iterable[tuple], reader: tzinfo) -> Iterator[list[Cell]]:
    """selectors.export_rows as typed cells: each entry dated on the clock its reason
    names the day on (a level-5 one on the ``reader``'s), points as integers, its words in
    the reader's language (the one active now: a CSV's lines are written after the view
    returns)."""
    return _cells(rows, reader, translation.get_language())


def _cells(rows: Iterable[tuple], reader: tzinfo, language: str | None) -> Iterator[list[Cell]]:
    for (
        occurred_at,
        meeting_zone,
        crew_zone,
        member,
        crew,
        level,
        rule,
        points,
        reason,
        recorded_by,
        reversed_at,
        reversed_meeting_zone,
        reversed_points,
        reversed_reason,
        parts,
        reversed_rule,
        reversed_parts,
    ) in rows:
        reverses = ""
        with translation.override(language):
            if reversed_at is not None:
                reverses = reversal(
                    reversed_at,
                    (reversed_meeting_zone, crew_zone, reader),
                    reversed_points,
                    reversed_rule,
                    reversed_parts,
                    reversed_reason,
                )
            row: list[Cell] = [
                entry_day(occurred_at, meeting_zone, crew_zone, reader),
                member,
                crew or "",
                str(Level(level).label),
                str(Rule(rule).label),
                points,
                localized_reason(rule, parts, reason),
                recorded_by or "",
                reverses,
            ]
        yield row


def reversal(
    at: datetime,
    clocks: tuple[tzinfo | None, ...],
    points: int,
    rule: str,
    parts: Mapping[str, Any] | None,
    reason: str,
) -> str:
    """What a correction's "reverses" cell says of the entry it reverses: its day on the
    first of ``clocks`` it has (rules.entry_day), its points and its reason, in the active
    language."""
    day = entry_day(at, *clocks)
    return f"{day.isoformat()} {points:+d} {localized_reason(rule, parts, reason)}"


class _Echo:
    """csv.writer writes to this, and hands back each line for the response to stream."""

    def write(self, line: str) -> str:
        return line


def csv_lines(rows: Iterable[list[Cell]], heading: list[str] | None = None) -> Iterator[str]:
    """The lines of a CSV, the first one after a byte-order mark. A day is an ISO date,
    which both programs read as a date; text that looks like a formula gets the leading
    apostrophe that keeps it text. ``heading`` is the header row, ``header()`` by
    default."""
    yield csv_header(heading)
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([_csv_cell(value) for value in row])


def csv_header(heading: list[str] | None = None) -> str:
    """A CSV's first line: the byte-order mark and the header row (``header()`` by
    default)."""
    return BOM + csv.writer(_Echo()).writerow([cell(text) for text in heading or header()])


def _csv_cell(value: Cell) -> str | int:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return cell(value)
    return value


def xlsx_book(rows: Iterable[list[Cell]]) -> bytes:
    """An .xlsx of one sheet: its header bold and frozen, days as dates, points as
    numbers, written row by row (openpyxl's write-only mode keeps no row in memory)."""
    book = Workbook(write_only=True)
    # Translators: The name of the sheet of ledger entries in a downloaded spreadsheet.
    sheet = book.create_sheet(gettext("Entries"))
    sheet.freeze_panes = "A2"
    for number, (_, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    bold = Font(bold=True)
    headings = [WriteOnlyCell(sheet, value=heading) for heading in header()]
    for heading_cell in headings:
        heading_cell.font = bold
    sheet.append(headings)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Cell) -> Cell | WriteOnlyCell:
    if not isinstance(value, str):
        return value
    # XML cannot hold most control characters: openpyxl refuses them.
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    # openpyxl would also type a string equal to an error value ("#N/A") as an error cell.
    if not formula_like(text):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    # A text cell, with Excel's own mark for the leading apostrophe: it stays text even
    # when someone edits it.
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell
