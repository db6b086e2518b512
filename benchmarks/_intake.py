"""Recording rates of the two interfaces for systems that are not casesync's Python: the SQL
function ``casesync_api.record_change`` and the HTTP intake (``casesync serve``), on the same
simulated changes as the Python recorder's rate beside them.

The changes become what a regional system would send: the case, the event, the expected version,
and for a new case its item, handling mode, applicant and partner as ``fields``.
"""

from __future__ import annotations

import dataclasses
import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from casesync.adapters.postgres import connect, transaction
from casesync.contract.codec import case_event_codec
from casesync.domain.loading import shipped_catalogue
from casesync.intake.store import issue_token
from infra.paths import free_ports
from producers.app import load_recording_rules
from producers.changes import CaseChange
from producers.encoding import encode_pending
from producers.simulation import Simulation

_RECORD = "SELECT version FROM casesync_api.record_change(%s, %s, %s, %s::jsonb, %s::timestamptz)"


@dataclasses.dataclass(frozen=True, slots=True)
class SqlRates:
    record_rate: float  # casesync_api.record_change calls committed per second
    encode_rate: float  # the relay's encoding step over the same rows, per second


def simulated_changes(
    region: str, events: int, *, cases: int, seed: int, partners: Sequence[str]
) -> list[CaseChange]:
    """The same stream ``_support.record_changes`` records for these arguments."""
    simulation = Simulation(shipped_catalogue(), region, seed=seed)
    planned = simulation.plan(cases, datetime.now(UTC).date(), partners=list(partners))
    return list(itertools.islice(simulation.changes(planned, datetime), events))


def change_body(change: CaseChange) -> dict[str, Any]:
    """A change as the HTTP intake takes it (and, less ``fields``' wrapping, the SQL call)."""
    fields: dict[str, Any] = {}
    if change.item_code is not None:
        fields["item_code"] = change.item_code
    if change.handling_mode is not None:
        fields["handling_mode"] = change.handling_mode.value
    if change.applicant is not None:
        applicant = dataclasses.asdict(change.applicant)
        applicant["kind"] = change.applicant.kind.value
        fields["applicant"] = applicant
    if change.target_regions is not None:
        fields["target_regions"] = list(change.target_regions)
    return {
        "case_id": change.case_id, "event_type": change.event_type.value,
        "expected_version": change.expected_version, "fields": fields,
        "occurred_at": change.occurred_at.isoformat(),
    }  # fmt: skip


def prepare_intake(url: str, region: str) -> None:
    """Load ``region``'s recording rules into the (migrated) database at ``url``."""
    conn = connect(url)
    try:
        load_recording_rules(conn, region)
    finally:
        conn.close()


def record_through_sql(url: str, changes: Sequence[CaseChange], batch_size: int = 1000) -> SqlRates:
    """Record ``changes`` with one ``record_change`` call each, ``batch_size`` to a transaction
    (as the Python recorder's batches), then run the relay's encoding step over them."""
    bodies = [change_body(change) for change in changes]
    conn = connect(url)
    try:
        started = time.perf_counter()
        for start in range(0, len(bodies), batch_size):
            with transaction(conn) as cur:
                for body in bodies[start : start + batch_size]:
                    cur.execute(_RECORD, (
                        body["case_id"], body["event_type"], body["expected_version"],
                        json.dumps(body["fields"], ensure_ascii=False), body["occurred_at"],
                    ))  # fmt: skip
        recorded = time.perf_counter() - started
        codec, catalogue = case_event_codec(), shipped_catalogue()
        started, encoded = time.perf_counter(), 0
        while (done := encode_pending(conn, codec, catalogue, limit=batch_size)).encoded:
            encoded += done.encoded
        encoding = time.perf_counter() - started
    finally:
        conn.close()
    if encoded != len(changes):
        raise RuntimeError(f"encoded {encoded} of {len(changes)} SQL-recorded changes")
    return SqlRates(len(changes) / recorded, encoded / encoding)


def record_over_http(
    url: str, region: str, changes: Sequence[CaseChange], clients: int = 4
) -> float:
    """Post ``changes`` to a ``casesync serve`` process of its own on the database at ``url``,
    from ``clients`` threads with a kept-alive connection each (a case's changes all from one
    thread, in order), each with an Idempotency-Key; changes recorded per second."""
    token = issue_token(url, region, "benchmark")
    port = free_ports()
    env = {**os.environ, "CASESYNC_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "casesync", "serve", "--region", region, "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for(port)
        shares: list[list[bytes]] = [[] for _ in range(clients)]
        for change in changes:
            body = json.dumps(change_body(change), ensure_ascii=False).encode()
            shares[hash(change.case_id) % clients].append(body)
        failures: list[str] = []
        threads = [
            threading.Thread(target=_post_all, args=(port, region, token.secret, share, failures))
            for share in shares
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    if failures:
        raise RuntimeError(f"{len(failures)} HTTP recordings failed, e.g. {failures[0]}")
    return len(changes) / elapsed


def _post_all(port: int, region: str, token: str, bodies: list[bytes], failures: list[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for body in bodies:
        connection.request("POST", f"/regions/{region}/changes", body=body,
                           headers={**headers, "Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
        response = connection.getresponse()
        answer = response.read()
        if response.status != 201:
            failures.append(f"{response.status} {answer[:200]!r}")
    connection.close()


def _wait_for(port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the intake did not listen on port {port} within {timeout_s:g} s")
