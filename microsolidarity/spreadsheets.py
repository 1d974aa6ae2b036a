"""Text for a CSV cell that a spreadsheet will open."""

from __future__ import annotations


def cell(value: str | None) -> str:
    """``value``, with a quote in front when it starts like a formula: a spreadsheet would
    run a cell starting with one of these."""
    value = value or ""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
