"""Text that a spreadsheet would run as a formula, and how a CSV cell keeps it text: one
rule for every export (the ledger's CSV and .xlsx, a Self's data archive)."""

from __future__ import annotations


def formula_like(text: str) -> bool:
    """Whether a spreadsheet would run this text as a formula (or, after a tab or a
    carriage return, may): it is then marked to stay text, in either format."""
    return text[:1] in ("=", "+", "-", "@", "\t", "\r")


def cell(value: str | None) -> str:
    """``value`` for a CSV cell, with a quote in front when it starts like a formula."""
    value = value or ""
    return f"'{value}" if formula_like(value) else value
