"""Rows to PostgreSQL's COPY text format: the fastest way psycopg2 has to write many rows."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from psycopg2 import sql

# COPY text escapes: backslash first, then the three characters that end fields and rows.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_field(value: object) -> str:
    """One field in COPY text format; None is NULL. NUL characters are left for the server to
    refuse (text cannot hold them), which turns into a dead letter rather than a silent change."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def copy_rows(
    cur: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    """COPY ``rows`` into ``table`` (identifiers quoted with psycopg2.sql)."""
    buffer = io.StringIO()
    write = buffer.write
    for row in rows:
        write("\t".join([copy_field(value) for value in row]))
        write("\n")
    buffer.seek(0)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    cur.copy_expert(statement.as_string(cur), buffer)
