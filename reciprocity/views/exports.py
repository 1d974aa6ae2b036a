"""CSV downloads of ledger entries: one's own, and a crew's for its members. One query
reads the rows (a crew's ledger is hundreds of them) and the lines are streamed."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from crews.access import crew_for_member
from microsolidarity.http import CongregationRequest
from microsolidarity.spreadsheets import cell

from ..rules import Level, Rule
from ..selectors import entries, export_rows

HEADER = [
    "date",
    "member",
    "crew",
    "level",
    "rule",
    "points",
    "reason",
    "recorded by",
    "reverses",
]


class _Echo:
    """csv.writer writes to this, and hands back each line for the response to stream."""

    def write(self, line: str) -> str:
        return line


def _lines(rows: Iterable[tuple], tz: ZoneInfo) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    for (
        occurred_at,
        member,
        crew,
        level,
        rule,
        points,
        reason,
        recorded_by,
        reversed_at,
        reversed_points,
        reversed_reason,
    ) in rows:
        reverses = ""
        if reversed_at is not None:
            reverses = f"{_day(reversed_at, tz)} {reversed_points:+d} {reversed_reason}"
        yield writer.writerow(
            [
                _day(occurred_at, tz),
                cell(member),
                cell(crew),
                Level(level).label,
                Rule(rule).label,
                points,
                cell(reason),
                cell(recorded_by),
                reverses,
            ]
        )


def _day(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).date().isoformat()


def _download(
    request: CongregationRequest, rows: Iterable[tuple], name: str
) -> StreamingHttpResponse:
    # The lines are written after the view returns: fix the reader's timezone now.
    tz = timezone.get_current_timezone()
    # Streamed after the view returns: the middleware puts the lines behind the walls.
    response = StreamingHttpResponse(_lines(rows, tz), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@require_GET
def my_entries_csv(request: CongregationRequest) -> StreamingHttpResponse:
    mine = entries(congregation=request.congregation, member_id=request.user.pk)
    return _download(request, export_rows(mine), f"{request.congregation.slug}-my-entries")


@require_GET
def crew_entries_csv(request: CongregationRequest, crew_pk: int) -> StreamingHttpResponse:
    crew = crew_for_member(request, crew_pk)
    theirs = entries(congregation=request.congregation, crew=crew)
    return _download(
        request, export_rows(theirs), f"{request.congregation.slug}-crew-{crew.pk}-entries"
    )
