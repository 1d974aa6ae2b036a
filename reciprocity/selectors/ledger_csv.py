"""Ledger entries as a CSV written by PostgreSQL (microsolidarity.copy_csv): the lines
sheets.csv_lines writes from export_rows, byte for byte, without a row passing through
Python. Each cell is said in SQL in the reader's language and on their clock, from
parameters made in Python (reciprocity.reasons_sql).

One query first finds the entries SQL does not say as Python does, corrections and any
whose parts have another shape than the services write, and Python says them; the COPY
takes those words by entry and says the rest. (An entry written between the two is said
by SQL, which reads whatever the services write.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from psycopg.types.json import Jsonb

from congregations.models import Congregation, Self
from crews.models import Crew, Meeting
from microsolidarity.copy_csv import Params, copy_csv
from microsolidarity.spreadsheets import cell, cell_sql

from ..models import LedgerEntry
from ..reasons_sql import Unsayable, clock, day_key, meeting_days, readable, said
from ..rules import Level, Rule, localized_reason
from ..sheets import csv_header, reversal

# The entries a CSV holds, and the day of each meeting their reasons name. Row-level
# security admits the congregation's rows alone.
ENTRIES = """
WITH base AS MATERIALIZED (
    SELECT e.id, e.occurred_at, e.member_id, e.recorded_by_id, e.crew_id, e.meeting_id,
           e.level, e.rule, e.points, e.reason, e.reason_parts, e.reverses_id
    FROM {ledger} e
    WHERE {whose}
), days AS MATERIALIZED (
    SELECT {meeting_days} AS day
)"""

# An entry without parts, whose reason is shown as written, in either language.
NO_PARTS = "(e.reason_parts IS NULL OR e.reason_parts IN ('{}', 'null'))"

# The entries Python says, with what they reverse, read as export_rows reads them.
SAID_IN_PYTHON = """{entries}
SELECT e.id, e.rule, e.reason_parts, e.reason, c.timezone,
       v.occurred_at, vm.timezone, v.points, v.rule, v.reason_parts, v.reason
FROM base e
CROSS JOIN days d
LEFT JOIN {crews} c ON c.id = e.crew_id
LEFT JOIN {ledger} v ON v.id = e.reverses_id
LEFT JOIN {meetings} vm ON vm.id = v.meeting_id
WHERE e.rule = %(reversal)s OR e.reverses_id IS NOT NULL OR NOT ({readable} OR {no_parts})
"""

# The clock an entry's day is read on: its meeting's, else its crew's, else the reader's.
DAY_ZONE = """coalesce(n.meeting_zone ->> e.meeting_id::text, n.crew -> e.crew_id::text ->> 0,
         %(reader)s)"""

# The rows, oldest first. Each entry's reason is said once, in ``entry``; the people,
# crews and meetings the entries name are looked up once each, in ``named`` (a crew's
# hundreds of entries name a dozen people: joined row by row, they cost more than all
# the rest).
ROWS = """{entries}, entry AS MATERIALIZED (
    SELECT e.id, e.occurred_at, e.member_id, e.recorded_by_id, e.crew_id, e.meeting_id,
           e.level, e.rule, e.points, {reason} AS reason, {reverses} AS reverses
    FROM base e CROSS JOIN days d
), named AS MATERIALIZED (
    SELECT (SELECT jsonb_object_agg(id, {person}) FROM {selves}
            WHERE id IN (SELECT member_id FROM entry UNION SELECT recorded_by_id FROM entry)
           ) AS person,
           (SELECT jsonb_object_agg(id, jsonb_build_array(timezone, {crew})) FROM {crews}
            WHERE id IN (SELECT crew_id FROM entry)) AS crew,
           (SELECT jsonb_object_agg(id, timezone) FROM {meetings}
            WHERE id IN (SELECT meeting_id FROM entry)) AS meeting_zone
)
SELECT to_char(e.occurred_at AT TIME ZONE {day_zone}, 'YYYY-MM-DD'),
       n.person ->> e.member_id::text,
       n.crew -> e.crew_id::text ->> 1,
       %(levels)s::jsonb ->> e.level::text,
       %(rules)s::jsonb ->> e.rule,
       e.points,
       {reason_cell},
       n.person ->> e.recorded_by_id::text,
       e.reverses
FROM entry e CROSS JOIN named n
ORDER BY e.occurred_at, e.id
"""

TABLES = {
    "ledger": LedgerEntry._meta.db_table,
    "crews": Crew._meta.db_table,
    "meetings": Meeting._meta.db_table,
    "selves": Self._meta.db_table,
}


def ledger_csv(
    *,
    congregation: Congregation,
    reader: tzinfo,
    crew: Crew | None = None,
    member_id: int | None = None,
) -> Iterator[bytes] | None:
    """The lines of the CSV of a congregation's entries, a crew's or a member's, in the
    active language, days on the ``reader``'s clock where an entry names none: the header
    row, then the rows PostgreSQL streams as they are read, after one query now. None
    where Python writes the CSV instead: not on PostgreSQL, or in a language SQL cannot
    spell."""
    zone = reader.key if isinstance(reader, ZoneInfo) else None
    if connection.vendor != "postgresql" or not zone:
        return None
    params = Params(
        congregation=congregation.pk,
        reader=zone,
        reversal=Rule.REVERSAL.value,
        # Labels are the same for every row: kept text once, here.
        levels=json.dumps({str(level.value): cell(str(level.label)) for level in Level}),
        rules=json.dumps({rule.value: cell(str(rule.label)) for rule in Rule}),
    )
    # selectors.entries's filters.
    whose = ["e.congregation_id = %(congregation)s"]
    if crew is not None:
        whose.append(f"e.crew_id = {params.bind(crew.pk, 'crew')}")
    if member_id is not None:
        whose.append(f"e.member_id = {params.bind(member_id, 'member')}")
    entry = ("e.rule", "e.reason_parts", f"d.day ->> {day_key('e.reason_parts')}")
    try:
        days = meeting_days("base", "reason_parts", params)
        can_read = readable(*entry, params)
        say = said(*entry, params)
    except Unsayable:
        return None
    entries = ENTRIES.format(meeting_days=days, whose=" AND ".join(whose), **TABLES)
    in_python = _said_in_python(
        SAID_IN_PYTHON.format(entries=entries, readable=can_read, no_parts=NO_PARTS, **TABLES),
        params,
        reader,
    )
    # An entry written since that SQL does not say (a correction) shows its reason as
    # written.
    reason = f"coalesce(CASE WHEN {NO_PARTS} THEN e.reason ELSE {say} END, e.reason)"
    reverses = "NULL::text"
    if in_python:
        python = params.bind(Jsonb(in_python), "python")
        reason = f"coalesce({python} -> e.id::text ->> 0, {reason})"
        reverses = f"{python} -> e.id::text ->> 1"
    select = ROWS.format(
        entries=entries,
        reason=reason,
        reverses=reverses,
        person=cell_sql("display_name", params),
        crew=cell_sql("name", params),
        reason_cell=cell_sql("e.reason", params),
        day_zone=clock(DAY_ZONE, params),
        **TABLES,
    )
    return copy_csv(select, params, first=csv_header().encode())


def _said_in_python(select: str, params: Params, reader: tzinfo) -> dict[str, list[str | None]]:
    """{entry id: [its reason, what it reverses (kept text) or None]} for the entries
    Python says."""
    found: dict[str, list[str | None]] = {}
    with connection.cursor() as cursor:
        cursor.execute(select, params)
        for (
            pk,
            rule,
            parts,
            reason,
            crew_zone,
            reversed_at,
            reversed_meeting_zone,
            reversed_points,
            reversed_rule,
            reversed_parts,
            reversed_reason,
        ) in cursor.fetchall():
            reverses = None
            if reversed_at is not None:
                clocks = (_zone(reversed_meeting_zone), _zone(crew_zone), reader)
                reverses = cell(
                    reversal(
                        reversed_at,
                        clocks,
                        reversed_points,
                        reversed_rule,
                        _json(reversed_parts),
                        reversed_reason,
                    )
                )
            found[str(pk)] = [localized_reason(rule, _json(parts), reason), reverses]
    return found


def _zone(name: str | None) -> ZoneInfo | None:
    return ZoneInfo(name) if name else None


def _json(text: str | None) -> Any:
    # Django has psycopg hand jsonb over as text (JSONField decodes it): so does it here.
    return None if text is None else json.loads(text)
