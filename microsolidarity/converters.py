"""The path converter for row ids (``<id:pk>``): an id no row can have, past what a bigint
holds, matches no URL. Every page then answers it with a 404 on every database, where
SQLite raised an overflow (a server error) on looking it up."""

from __future__ import annotations

# The largest id PostgreSQL's bigint, and SQLite's integer, can hold.
LARGEST_ID = 2**63 - 1


class RowId:
    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > LARGEST_ID:
            raise ValueError(f"No row has the id {value}.")  # Django: no match, a 404
        return number

    def to_url(self, value: int) -> str:
        return str(value)
