"""Spreadsheet downloads of ledger entries, as CSV or .xlsx: one's own, and a crew's for
its members. A CSV is written by PostgreSQL and streamed as it sends it (selectors.
ledger_csv), where it can; else, and for an .xlsx, one query reads the rows (a crew's
ledger is hundreds of them) and Python writes them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from crews.access import crew_for_member
from microsolidarity.http import CongregationRequest

from ..selectors import entries, export_rows
from ..selectors.ledger_csv import ledger_csv
from ..sheets import XLSX, cells, csv_lines, header, xlsx_book

# Whose entries: the keyword arguments of selectors.entries and selectors.ledger_csv.
Whose = dict[str, Any]


def _csv(whose: Whose, name: str) -> StreamingHttpResponse:
    # The lines are written after the view returns, behind the walls the middleware puts
    # them in: the reader's language and timezone are fixed now.
    reader = timezone.get_current_timezone()
    lines: Iterator[str | bytes] | None = ledger_csv(reader=reader, **whose)
    if lines is None:
        lines = csv_lines(cells(export_rows(entries(**whose)), reader), header())
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _xlsx(whose: Whose, name: str) -> HttpResponse:
    # A zip's directory comes last: the workbook is written whole, here, behind the walls.
    rows = export_rows(entries(**whose))
    book = xlsx_book(cells(rows, timezone.get_current_timezone()))
    response = HttpResponse(book, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


def _mine(request: CongregationRequest) -> tuple[Whose, str]:
    whose = {"congregation": request.congregation, "member_id": request.user.pk}
    return whose, f"{request.congregation.slug}-my-entries"


def _crews(request: CongregationRequest, crew_pk: int) -> tuple[Whose, str]:
    crew = crew_for_member(request, crew_pk)
    whose = {"congregation": request.congregation, "crew": crew}
    return whose, f"{request.congregation.slug}-crew-{crew.pk}-entries"


@require_GET
def my_entries_csv(request: CongregationRequest) -> StreamingHttpResponse:
    return _csv(*_mine(request))


@require_GET
def my_entries_xlsx(request: CongregationRequest) -> HttpResponse:
    return _xlsx(*_mine(request))


@require_GET
def crew_entries_csv(request: CongregationRequest, crew_pk: int) -> StreamingHttpResponse:
    return _csv(*_crews(request, crew_pk))


@require_GET
def crew_entries_xlsx(request: CongregationRequest, crew_pk: int) -> HttpResponse:
    return _xlsx(*_crews(request, crew_pk))
