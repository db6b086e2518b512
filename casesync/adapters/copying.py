"""Rows to PostgreSQL's COPY text format: the fastest way psycopg2 has to write many rows.

Every free-text value goes through ``text``: an unescaped tab or newline in, say, an event id
from a partner would otherwise shift columns or start a row of its own.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from psycopg2 import sql

# COPY text escapes: backslash first, then the three characters that end fields and rows.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"
_CHUNK = 8 * 1024 * 1024  # characters per read of the COPY data


def text(value: str) -> str:
    """``value`` escaped for COPY text format (checked first: translating is slow, and most
    values need nothing). NUL characters are left for the server to refuse, which becomes a
    dead letter rather than a silently changed value."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def copy_field(value: object) -> str:
    """Any one field in COPY text format; None is NULL, bytes become bytea hex."""
    if value is None:
        return NULL
    if isinstance(value, str):
        return text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\\\x" + bytes(value).hex()  # the backslash itself escaped for COPY text
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def copy_lines(cur: Any, table: str, columns: Sequence[str], lines: Iterable[str]) -> None:
    """COPY already formatted lines (each ending in a newline) into ``table``."""
    data = "".join(lines)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    # Large reads: psycopg2 takes the GIL back for every chunk it reads, and in a busy process
    # each time can wait for another thread's switch interval (8 KiB chunks made COPY crawl).
    cur.copy_expert(statement.as_string(cur), io.StringIO(data), size=_CHUNK)


def copy_rows(
    cur: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    """COPY ``rows`` of Python values into ``table``."""
    copy_lines(
        cur, table, columns, ("\t".join([copy_field(v) for v in row]) + "\n" for row in rows)
    )
