"""Fixtures for recording through SQL: a region database with its rules loaded and a table of
the regional system's own, and the psql client that writes to both in one transaction."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from casesync.adapters.postgres import connect, query_rows, transaction
from consumers.schema import migrate_region
from producers.app import load_recording_rules

RUDONG, TONGXIANG = "320623", "330483"
PSQL_SCRIPT = Path(__file__).parents[2] / "clients" / "psql" / "record_change.sql"
# A Rudong housing-provident-fund withdrawal, shared with Tongxiang.
SUBMISSION: dict[str, Any] = {
    "item_code": "002023002000",
    "handling_mode": "FULLY_ONLINE",
    "applicant": {"kind": "PERSON", "name": "王芳", "id_number": "330483199001011234"},
    "target_regions": [TONGXIANG],
}


@dataclass
class SqlRegion:
    """Rudong's database as a regional system sees it: casesync's tables and its own."""

    url: str

    def query(self, statement: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return query_rows(self.url, statement, params)

    def counts(self) -> dict[str, int]:
        """Rows in each table a recording touches, the regional system's own included."""
        tables = ("cases", "case_history", "outbox", "regional_notes")
        return {t: self.query(f"SELECT count(*) FROM {t}")[0][0] for t in tables}  # noqa: S608

    def psql(
        self,
        case_id: str,
        event: str,
        expected: int,
        fields: dict[str, Any] | None = None,
        *,
        finish: str = "COMMIT",
        hold_s: float = 0,
    ) -> subprocess.Popen[str]:
        """``record_change.sql`` in a psql process of its own (not waited for)."""
        variables = {
            "case_id": case_id, "event": event, "expected": str(expected),
            "fields": json.dumps(fields or {}, ensure_ascii=False), "finish": finish,
            "hold": str(hold_s),
        }  # fmt: skip
        argv = ["psql", self.url, "-X", "-q", "-t", "-A", "-f", str(PSQL_SCRIPT)]
        for name, value in variables.items():
            argv += ["-v", f"{name}={value}"]
        return subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )  # fmt: skip


def finished(process: subprocess.Popen[str], timeout: float = 30) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of a client process."""
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


@pytest.fixture
def sql_region(database_factory: Callable[[str], str]) -> SqlRegion:
    """Rudong's fresh database, migrated, rules loaded, with a ``regional_notes`` table."""
    url = database_factory("intake")
    conn = connect(url)
    try:
        migrate_region(conn)
        load_recording_rules(conn, RUDONG)
        with transaction(conn) as cur:
            cur.execute("CREATE TABLE regional_notes (case_id text NOT NULL, note text NOT NULL)")
    finally:
        conn.close()
    return SqlRegion(url)
