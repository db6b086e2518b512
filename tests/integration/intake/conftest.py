"""Fixtures for recording through SQL: a region database with its rules loaded and a table of
the regional system's own, and the psql client that writes to both in one transaction; for
recording over HTTP: the intake served in-process and a plain urllib client of it."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from casesync.adapters.listening import bind
from casesync.adapters.postgres import connect, query_rows, transaction
from casesync.intake import store
from casesync.intake.store import RegionIntake
from casesync.intake.web import IntakeOptions, application
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
    prepare_intake_database(url, RUDONG)
    conn = connect(url)
    try:
        with transaction(conn) as cur:
            cur.execute("CREATE TABLE regional_notes (case_id text NOT NULL, note text NOT NULL)")
    finally:
        conn.close()
    return SqlRegion(url)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, headers (lower-case names), body as JSON."""

    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class IntakeClient:
    """A plain HTTP client of the intake (urllib), as a regional system would write one."""

    base: str

    def post(
        self, region: str, body: dict[str, Any] | bytes, *, token: str | None, key: str | None
    ) -> Answer:
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if key is not None:
            headers["Idempotency-Key"] = key
        url = f"{self.base}/regions/{region}/changes"
        return _send(urllib.request.Request(url, data=data, headers=headers, method="POST"))  # noqa: S310 - http://127.0.0.1

    def get(self, path: str) -> Answer:
        return _send(urllib.request.Request(f"{self.base}{path}"))  # noqa: S310 - http://127.0.0.1

    def post_with_retries(
        self, region: str, body: dict[str, Any], *, token: str, key: str, attempts: int
    ) -> list[Answer]:
        """Post ``attempts`` times with one key, as a client does that never saw an answer
        (a timeout, a lost connection), retrying on 5xx too; every answer, in order."""
        answers = []
        for attempt in range(attempts):
            answers.append(self.post(region, body, token=token, key=key))
            if answers[-1].status >= 500:
                time.sleep(0.1 * (attempt + 1))
        return answers


def _send(request: urllib.request.Request) -> Answer:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our URL
            return Answer(response.status, _lower(response.headers), json.load(response))
    except urllib.error.HTTPError as e:
        return Answer(e.code, _lower(e.headers), json.load(e))


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


@pytest.fixture
def intake_server() -> Iterator[Callable[..., IntakeClient]]:
    """``intake_server({"320623": url, ...})``: the HTTP intake for those region databases,
    in-process on a free port (real uvicorn, real sockets); a client of it. Stopped after."""
    running: list[tuple[uvicorn.Server, threading.Thread, list[RegionIntake]]] = []

    def start(regions: dict[str, str], max_body_bytes: int = 64 * 1024) -> IntakeClient:
        intakes = {code: RegionIntake(code, url) for code, url in regions.items()}
        app = application(intakes, IntakeOptions(max_body_bytes=max_body_bytes))
        sock = bind("127.0.0.1", 0, what="the test intake")
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        running.append((server, thread, list(intakes.values())))
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return IntakeClient(f"http://127.0.0.1:{sock.getsockname()[1]}")

    yield start
    for server, thread, intakes in running:
        server.should_exit = True
        thread.join(timeout=10)
        for intake in intakes:
            intake.close()


def issue_token(url: str, region: str) -> str:
    """A new intake token of ``region`` stored in the database at ``url`` (as ``casesync tokens
    issue`` does); the token."""
    return store.issue_token(url, region, "test client").secret


def prepare_intake_database(url: str, region: str) -> None:
    """Migrate the database at ``url`` and load ``region``'s recording rules into it."""
    conn = connect(url)
    try:
        migrate_region(conn)
        load_recording_rules(conn, region)
    finally:
        conn.close()
