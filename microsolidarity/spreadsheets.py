"""Text that a spreadsheet would not read as text, and how a CSV cell keeps it text: one
rule for every export (the ledger's CSV and .xlsx, a Self's data archive)."""

from __future__ import annotations

# Excel's error values: a cell holding exactly one reads as that error, not as text, and
# breaks every sum over its column.
ERROR_VALUES = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")
)


def formula_like(text: str) -> bool:
    """Whether a spreadsheet would run this text as a formula (or, after a tab or a
    carriage return, may), or read it as an error value: it is then marked to stay text,
    in either format."""
    return text[:1] in ("=", "+", "-", "@", "\t", "\r") or text.strip() in ERROR_VALUES


def cell(value: str | None) -> str:
    """``value`` for a CSV cell, with a quote in front when it would not read as text."""
    value = value or ""
    return f"'{value}" if formula_like(value) else value
