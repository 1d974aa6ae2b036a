"""Text that a spreadsheet would not read as text, and how a CSV cell keeps it text: one
rule for every export (the ledger's CSV and .xlsx, a Self's data archive), in Python and,
for a CSV PostgreSQL writes, in SQL."""

from __future__ import annotations

from .copy_csv import Params

# Excel's error values: a cell holding exactly one reads as that error, not as text, and
# breaks every sum over its column.
ERROR_VALUES = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What str.strip() takes off (str.isspace), for SQL's btrim; a test holds it to Python's.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def formula_like(text: str) -> bool:
    """Whether a spreadsheet would run this text as a formula (or, after a tab or a
    carriage return, may), or read it as an error value: it is then marked to stay text,
    in either format."""
    return text[:1] in FORMULA_STARTS or text.strip() in ERROR_VALUES


def cell(value: str | None) -> str:
    """``value`` for a CSV cell, with a quote in front when it would not read as text."""
    value = value or ""
    return f"'{value}" if formula_like(value) else value


def cell_sql(text: str, params: Params) -> str:
    """``cell`` in SQL: ``text`` (SQL of a text value, or NULL) as a CSV cell, NULL when
    empty, which PostgreSQL's CSV writes as nothing (an empty string it would quote)."""
    starts = params.bind(list(FORMULA_STARTS), "formula_starts")
    space = params.bind(WHITESPACE, "whitespace")
    errors = params.bind(sorted(ERROR_VALUES), "error_values")
    # Every error value holds a "#": only text that holds one is stripped (btrim is the slow
    # part, and most text holds none).
    return (
        f"CASE WHEN left({text}, 1) = ANY({starts}::text[])"
        f" OR (strpos({text}, '#') > 0 AND btrim({text}, {space}) = ANY({errors}::text[]))"
        f" THEN '''' || {text} ELSE nullif({text}, '') END"
    )
