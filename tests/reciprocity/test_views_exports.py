"""CSV downloads: one's own entries, and a crew's for its members."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews.models import Crew
from reciprocity.models import LedgerEntry
from reciprocity.services import reverse_entry
from tests.builders import (
    congregation_url,
    long_ledger,
    people,
    signed_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

HEADER = ["date", "member", "crew", "level", "rule", "points", "reason", "recorded by", "reverses"]


def rows(response: Any) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    content = b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    return list(csv.reader(io.StringIO(content)))


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


def test_a_long_export_streams_from_one_query(
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
    assert len(ledger_queries) <= 2  # the cursor's declaration, and its fetches by chunk


def test_exports_take_a_get_only(congregation: Congregation, played: Crew, member: Self) -> None:
    client = signed_in(member)
    assert (
        client.post(congregation_url("reciprocity:my_entries_csv", congregation)).status_code == 405
    )
    assert (
        client.post(
            congregation_url("reciprocity:crew_entries_csv", congregation, crew_pk=played.pk)
        ).status_code
        == 405
    )


def test_outsiders_download_nothing(
    congregation: Congregation, played: Crew, outsider: Self
) -> None:
    assert (
        signed_in(outsider)
        .get(congregation_url("reciprocity:my_entries_csv", congregation))
        .status_code
        == 404
    )
