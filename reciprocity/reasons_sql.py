"""An entry's reason in the reader's language, said by PostgreSQL word for word as
rules.localized_reason says it in Python, for the CSV the database writes
(selectors.ledger_csv). Every word comes from Python as a parameter, in the language active
now: the rules' wording (WORDING, MEETING, UNTITLED_CONFLICT), LegalForm's labels, and the
meeting's day in Django's DATE_FORMAT with its month names; nothing English is in the SQL.

SQL says a reason only where the entry's parts have the shape the services write them in
(``readable``); Python says the rest, and every correction. A language whose wording or date
format uses what this cannot spell raises Unsayable: its CSV is written in Python."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from string import Formatter

from django.utils.dateformat import re_escaped, re_formatchars
from django.utils.dates import MONTHS, MONTHS_3, MONTHS_ALT, MONTHS_AP
from django.utils.formats import get_format
from django.utils.functional import Promise

from congregations.timezones import without_region
from microsolidarity.copy_csv import Params

from .rules import MEETING, UNTITLED_CONFLICT, WORDING, LegalForm, Rule


class Unsayable(Exception):
    """The active language's wording or date format holds what SQL here cannot spell."""


# Django's date format characters that PostgreSQL's to_char writes as Django does (numbers,
# the same in every language)...
NUMBERS = {"j": "FMDD", "d": "DD", "n": "FMMM", "m": "MM", "Y": "YYYY", "y": "YY"}
# ...and those that name a month, from a list made in Python in the active language.
MONTH_NAMES: dict[str, Callable[[int], str]] = {
    "F": lambda month: str(MONTHS[month]),
    "E": lambda month: str(MONTHS_ALT[month]),
    "N": lambda month: str(MONTHS_AP[month]),
    "b": lambda month: str(MONTHS_3[month]),
    "M": lambda month: str(MONTHS_3[month]).title(),
}

# The part of an entry's reason_parts each name in a reason's wording is made from
# (rules._said).
MADE_FROM = {
    "meeting": "starts_at",
    "nth": "nth",
    "focus": "focus",
    "conflict": "conflict",
    "venture": "venture",
    "legal_form": "venture",
}

# A meeting's start as the services write it (datetime.isoformat() of an aware datetime)
# and as PostgreSQL reads it without refusing (its offsets stop at 15:59); any other is
# said in Python, which reads more (and refuses some of these: 30 February).
ISO_INSTANT = (
    r"^[1-9]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(\.\d{6})?[+-](0\d|1[0-5]):[0-5]\d$"
)

# The shape the services write parts in (rules.Parts): every part rules._said reads is
# there, of the type it is written with, a meeting's start one whose ``day`` SQL knows,
# and "nth" a whole number (PostgreSQL writes one as Python does; 1.10 it would not).
SHAPE = """
jsonb_typeof({p}) = 'object' AND {p} <> '{{}}'::jsonb
AND (NOT {p} ? 'starts_at' OR ({day} IS NOT NULL AND jsonb_typeof({p} -> 'crew') = 'string'))
AND (NOT {p} ? 'nth' OR (jsonb_typeof({p} -> 'nth') = 'number'
     AND strpos({p} ->> 'nth', '.') = 0))
AND (NOT {p} ? 'focus' OR jsonb_typeof({p} -> 'focus') = 'string')
AND (NOT {p} ? 'conflict' OR (jsonb_typeof({p} -> 'conflict') = 'string'
     AND ({p} ->> 'conflict' <> '' OR jsonb_typeof({p} -> 'crew') = 'string')))
AND (NOT {p} ? 'venture' OR (jsonb_typeof({p} -> 'venture') = 'string'
     AND jsonb_typeof({p} -> 'legal_form') = 'string'))
"""

# The meetings the entries' parts name, each once (a meeting names a dozen entries, and
# reading its start is most of what saying a reason costs), with the day it is on, on its
# own clock. Its start is cast only once it is known to be a date PostgreSQL reads, as
# a cast that failed would end the COPY; its zone is one of the app's, as are the crews'
# that date each entry in SQL.
MEETING_DAYS = """(
SELECT jsonb_object_agg(key, {day}) FILTER (WHERE moment IS NOT NULL)
FROM (SELECT key,
             CASE WHEN {valid} THEN starts_at::timestamptz AT TIME ZONE {zone} END AS moment
      FROM (SELECT DISTINCT {key} AS key, {p} ->> 'starts_at' AS starts_at,
                            {p} ->> 'zone' AS zone
            FROM {entries} WHERE jsonb_typeof({p} -> 'zone') = 'string') AS meeting
      OFFSET 0) AS meeting
)"""
# Of a start that looks like one, whether its day is in its month.
IN_ITS_MONTH = """CASE WHEN starts_at ~ {instant} THEN substr(starts_at, 9, 2)::int <= date_part(
    'day', make_date(substr(starts_at, 1, 4)::int, substr(starts_at, 6, 2)::int, 1)
    + interval '1 month - 1 day') ELSE false END"""


def meeting_days(entries: str, parts: str, params: Params) -> str:
    """SQL of a jsonb object holding, under ``day_key``, the day of each meeting the
    ``parts`` (SQL of a column) of ``entries`` (SQL of rows) name, as Django's
    date_format(…, "DATE_FORMAT") writes it in the active language; a start the services
    could not have written is left out."""
    valid = IN_ITS_MONTH.format(instant=params.bind(ISO_INSTANT, "iso_instant"))
    day = _day("moment", params)
    return MEETING_DAYS.format(
        day=day,
        valid=valid,
        key=day_key(parts),
        p=parts,
        entries=entries,
        zone=clock("zone", params),
    )


def day_key(parts: str) -> str:
    """SQL of the key meeting_days keeps the day of the meeting ``parts`` name under."""
    return f"(({parts} ->> 'starts_at') || ' ' || ({parts} ->> 'zone'))"


def readable(rule: str, parts: str, day: str, params: Params) -> str:
    """SQL of whether ``said`` says an entry's reason exactly as Python does, given SQL of
    its ``rule``, its ``parts`` and the ``day`` of the meeting they name (from
    meeting_days): they have the services' shape and hold all that the wording of its
    rule names (a correction's is never said in SQL)."""
    shape = SHAPE.format(p=parts, day=day)
    needs = []
    for rule_, (_, template) in WORDING.items():
        keys = sorted({MADE_FROM[name] for name in _names(template)})
        bound = params.bind(keys, f"needs_{rule_.value}")
        needs.append(f"WHEN '{rule_.value}' THEN {parts} ?& {bound}::text[]")
    return f"coalesce(({shape}) AND CASE {rule} {' '.join(needs)} ELSE false END, false)"


def said(rule: str, parts: str, day: str, params: Params) -> str:
    """SQL of a readable entry's reason in the active language, given SQL of its
    ``rule``, its ``parts`` and the ``day`` of the meeting they name."""
    text = f"{parts} ->> "
    meeting = _template(MEETING, {"crew": f"{text}'crew'", "day": day}, params)
    untitled = _template(UNTITLED_CONFLICT, {"crew": f"{text}'crew'"}, params)
    labels = params.bind(_legal_forms(), "legal_forms")
    names = {
        "meeting": meeting,
        "nth": f"{text}'nth'",
        "focus": f"{text}'focus'",
        "conflict": f"CASE WHEN {text}'conflict' <> '' THEN {text}'conflict' ELSE {untitled} END",
        "venture": f"{text}'venture'",
        "legal_form": f"coalesce({labels}::jsonb ->> ({text}'legal_form'), {text}'legal_form')",
    }
    whens = " ".join(
        f"WHEN '{rule_.value}' THEN {_template(template, names, params)}"
        for rule_, (_, template) in WORDING.items()
    )
    return f"CASE {rule} {whens} END"


def clock(name: str, params: Params) -> str:
    """SQL of the zone to convert with (``AT TIME ZONE``) for SQL of a stored zone
    ``name``: the listed zone a name without a region stands for (congregations.timezones
    .without_region), so that PostgreSQL reads CET as Python does, with its summer time."""
    names = params.bind(json.dumps(without_region()), "zones_without_region")
    return f"coalesce({names}::jsonb ->> ({name}), {name})"


def meeting_reason(rule: Rule, crew: str, moment: str, params: Params) -> str:
    """SQL of the reason of ``rule``, whose wording names a meeting and nothing else, in
    the active language, given SQL of the crew's name and of the meeting's start on its
    own clock (a timestamp without time zone): the missed-meeting job writes its
    deductions' reasons with it, rules.written_reason word for word."""
    day = _day(moment, params)
    meeting = _template(MEETING, {"crew": crew, "day": day}, params)
    return _template(WORDING[rule][1], {"meeting": meeting}, params)


def _legal_forms() -> str:
    return json.dumps({value: str(label) for value, label in LegalForm.choices})


def _pieces(template: Promise | str) -> Iterator[tuple[str, str | None]]:
    """A str.format template in the active language, as its literal text and the names
    it formats, each plain (no format spec, no conversion)."""
    for literal, name, spec, conversion in Formatter().parse(str(template)):
        if name is not None and (spec or conversion or not name.isidentifier()):
            raise Unsayable(str(template))
        yield literal, name


def _names(template: Promise | str) -> set[str]:
    names = {name for _, name in _pieces(template) if name is not None}
    if not names <= MADE_FROM.keys():
        raise Unsayable(str(template))
    return names


def _template(template: Promise | str, names: Mapping[str, str], params: Params) -> str:
    """SQL of ``template.format(**names)``, given SQL of each name's value."""
    sql = []
    for literal, name in _pieces(template):
        if literal:
            sql.append(params.bind(literal))
        if name is not None:
            if name not in names:
                raise Unsayable(str(template))
            sql.append(names[name])
    return _concat(sql)


def _day(moment: str, params: Params) -> str:
    """SQL of django.utils.formats.date_format(moment, "DATE_FORMAT") in the active
    language, given SQL of a wall-clock ``moment`` (a timestamp without time zone)."""
    sql = []
    # Django's own split: format characters at odd places, escaped literal text between.
    for place, piece in enumerate(re_formatchars.split(str(get_format("DATE_FORMAT")))):
        if place % 2 == 0:
            if piece:
                sql.append(params.bind(re_escaped.sub(r"\1", piece)))
        elif piece in NUMBERS:
            sql.append(f"to_char({moment}, '{NUMBERS[piece]}')")
        elif piece in MONTH_NAMES:
            months = [MONTH_NAMES[piece](month) for month in range(1, 13)]
            names = params.bind(months, f"months_{piece}")
            sql.append(f"({names}::text[])[date_part('month', {moment})::int]")
        else:
            raise Unsayable(piece)
    return _concat(sql)


def _concat(sql: list[str]) -> str:
    return f"concat({', '.join(sql)})" if sql else "''"
