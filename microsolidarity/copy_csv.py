"""A CSV written by PostgreSQL itself (``COPY (SELECT …) TO STDOUT WITH (FORMAT csv)``),
streamed as the database sends it, byte for byte what Python's ``csv.writer`` writes.

The two quote the same fields (those holding a comma, a quote, a carriage return or a line
feed; the only other field PostgreSQL quotes, ``\\.`` alone on a line, cannot occur in a
row of more than one column) and both write nothing for an empty field, given as NULL: an
empty string PostgreSQL would quote. They differ in line ends: PostgreSQL ends a row with
``\\n``, csv.writer with ``\\r\\n``; the database sends each row in one message, so its last
byte is the one to change."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import nullcontext
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorDebugWrapper

# Rows are handed on in chunks about this size, not one by one: a server writes each chunk
# to its socket as it comes.
CHUNK = 64 * 1024


class Params(dict[str, Any]):
    """The parameters of a statement being put together, each under a name of its own
    (psycopg's ``%(name)s``), so that pieces built apart can be joined in any order."""

    def bind(self, value: Any, name: str | None = None) -> str:
        """The placeholder for ``value``: under ``name`` when given (binding it again
        rebinds it), else under a new one."""
        name = name or f"p{len(self)}"
        self[name] = value
        return f"%({name})s"


def copy_csv(select: str, params: Mapping[str, Any], *, first: bytes = b"") -> Iterator[bytes]:
    """``first`` (a header), then the rows of ``select`` as lines of a CSV, as the
    database writes them. A generator: the statement runs once ``first`` has been read, in
    the transaction open then, so a streamed response reads it behind the walls its
    middleware puts it in; and closing it, as a response closes what it streams, ends the
    COPY (an iterator over it that could not be closed would leave it holding the
    connection). psycopg merges the parameters into the statement (COPY takes none of its
    own); the query log and the tests' query counts see it as one query."""
    if first:
        yield first
    statement = f"COPY ({select}) TO STDOUT WITH (FORMAT csv)"
    with connection.cursor() as cursor:
        logged = (
            cursor.debug_sql(statement, params)
            if isinstance(cursor, CursorDebugWrapper)
            else nullcontext()
        )
        with logged, cursor.cursor.copy(statement, params) as copy:
            chunk = bytearray()
            for row in copy:
                chunk += row
                chunk[-1:] = b"\r\n"
                if len(chunk) >= CHUNK:
                    yield bytes(chunk)
                    chunk.clear()
            if chunk:
                yield bytes(chunk)
