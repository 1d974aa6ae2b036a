"""Spreadsheet downloads of ledger entries, as CSV or .xlsx: one's own, and a crew's for
its members. One query reads the rows (a crew's ledger is hundreds of them); the CSV's
lines are streamed."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from crews.access import crew_for_member
from microsolidarity.http import CongregationRequest

from ..selectors import entries, export_rows
from ..sheets import XLSX, cells, csv_lines, header, xlsx_book


def _csv(rows: Iterable[tuple], name: str) -> StreamingHttpResponse:
    # The lines are written after the view returns: fix the reader's timezone now.
    typed = cells(rows, timezone.get_current_timezone())
    # Streamed after the view returns: the middleware puts the lines behind the walls.
    # So is the language: the header row is written in it now.
    lines = csv_lines(typed, header())
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _xlsx(rows: Iterable[tuple], name: str) -> HttpResponse:
    # A zip's directory comes last: the workbook is written whole, here, behind the walls.
    book = xlsx_book(cells(rows, timezone.get_current_timezone()))
    response = HttpResponse(book, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


def _mine(request: CongregationRequest) -> tuple[Iterable[tuple], str]:
    mine = entries(congregation=request.congregation, member_id=request.user.pk)
    return export_rows(mine), f"{request.congregation.slug}-my-entries"


def _crews(request: CongregationRequest, crew_pk: int) -> tuple[Iterable[tuple], str]:
    crew = crew_for_member(request, crew_pk)
    theirs = entries(congregation=request.congregation, crew=crew)
    return export_rows(theirs), f"{request.congregation.slug}-crew-{crew.pk}-entries"


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
