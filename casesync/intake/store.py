"""PostgreSQL edge of the HTTP intake: tokens, idempotency keys, and recording through
``casesync_api.record_change`` in the region's database."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg2
import structlog

from casesync.adapters.postgres import Connection, connect, is_retriable, transaction
from casesync.errors import Unreachable
from casesync.intake.errors import Refused, UnknownToken
from casesync.intake.parsing import ChangeRequest
from casesync.intake.problems import refusal_for_sqlstate
from casesync.intake.tokens import Token, issue, matches

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a recording request is answered: the same for every retry with its key."""

    case_id: str
    version: int
    event_id: str
    replayed: bool = False  # True: the answer of an earlier request with the same key

    def as_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "version": self.version, "event_id": self.event_id}


@dataclass(frozen=True, slots=True)
class TokenRow:
    """A token as people see it listed: never its digest."""

    token_id: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class RegionIntake:
    """One region's database, as the intake uses it: up to ``connections`` connections, opened
    on first use and kept, checking tokens and recording changes with their idempotency keys.
    A request finding them all busy waits for one (psycopg2's pools would refuse it, and close
    every connection above their minimum after each use)."""

    def __init__(self, region: str, url: str, *, connections: int = 4,
                 key_retention: timedelta = timedelta(hours=24)) -> None:  # fmt: skip
        self.region = region
        self.key_retention = key_retention
        self._url = url
        self._slots = threading.BoundedSemaphore(connections)
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def authenticate(self, token: Token) -> bool:
        """Whether ``token`` is one of this region's and not revoked."""
        with self._connection() as conn, transaction(conn) as cur:
            cur.execute(
                "SELECT token_sha256 FROM casesync_intake.tokens"
                " WHERE token_id = %s AND revoked_at IS NULL",
                (token.token_id,),
            )
            row = cur.fetchone()
        return row is not None and matches(bytes(row[0]), token)

    def record(self, change: ChangeRequest, key: str, token_id: str) -> Recorded:
        """Record ``change`` once per idempotency ``key``; Refused for a broken rule or a key
        reused with another body (then nothing is written)."""
        self._sweep_if_due()
        with self._connection() as conn:
            try:
                with transaction(conn) as cur:
                    return record_once(cur, change, key, token_id)
            except psycopg2.Error as e:
                refusal = refusal_for_sqlstate(e.pgcode, _primary_message(e))
                if refusal is not None:
                    raise refusal from None
                if isinstance(e, psycopg2.DataError):  # e.g. an out-of-range instant
                    raise Refused("INVALID_REQUEST", "a value is out of range") from None
                raise

    def healthy(self) -> bool:
        """Whether the database answers."""
        try:
            with self._connection() as conn, transaction(conn) as cur:
                cur.execute("SELECT 1")
        except (psycopg2.Error, Unreachable):
            return False
        return True

    def sweep_keys(self) -> int:
        """Delete the idempotency keys older than the retention window; how many."""
        with self._connection() as conn, transaction(conn) as cur:
            cur.execute(
                "DELETE FROM casesync_intake.idempotency_keys WHERE created_at < now() - %s",
                (self.key_retention,),
            )
            return int(cur.rowcount)

    def _sweep_if_due(self) -> None:
        """At most one sweep a minute, on some request's thread (no timer thread to stop)."""
        with self._lock:
            if time.monotonic() < self._next_sweep:
                return
            self._next_sweep = time.monotonic() + 60
        swept = self.sweep_keys()
        if swept:
            log.info("idempotency keys expired", region=self.region, deleted=swept)

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """An idle connection or a new one (Unreachable when the server does not answer); one
        that failed as a lost connection does is closed rather than kept."""
        self._slots.acquire()
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = connect(self._url, application_name="casesync-intake")
            broken = False
            try:
                yield conn
            except psycopg2.Error as e:
                broken = is_retriable(e)
                raise
            finally:
                if broken or conn.closed:
                    conn.close()
                else:
                    with self._lock:
                        self._idle.append(conn)
        finally:
            self._slots.release()


def record_once(cur: Any, change: ChangeRequest, key: str, token_id: str) -> Recorded:
    """Steps, in the caller's transaction (the key commits with the change, or neither does):

    1. Claim the key. A concurrent request holding it makes this INSERT wait until that one
       commits (then the key is taken: step 2) or rolls back (then it is ours).
    2. A key taken before: the same body gets the first answer again; another body is refused.
    3. Refuse a case this region mirrors from another region (it is not this region's to change;
       ``record_change`` alone would call it missing).
    4. Record through ``casesync_api.record_change``: the same rules as every SQL caller.
    5. Keep the answer with the key.
    """
    cur.execute(
        "INSERT INTO casesync_intake.idempotency_keys (idempotency_key, request_sha256, token_id)"
        " VALUES (%s, %s, %s) ON CONFLICT (idempotency_key) DO NOTHING",
        (key, change.digest, token_id),
    )
    if cur.rowcount == 0:
        cur.execute(
            "SELECT request_sha256, answer FROM casesync_intake.idempotency_keys"
            " WHERE idempotency_key = %s",
            (key,),
        )
        digest, answer = cur.fetchone()
        if bytes(digest) != change.digest:
            raise Refused("IDEMPOTENCY_KEY_REUSED",
                          "this Idempotency-Key was used before with a different body")  # fmt: skip
        return Recorded(answer["case_id"], answer["version"], answer["event_id"], replayed=True)
    cur.execute("SELECT source_region FROM mirror_cases WHERE case_id = %s", (change.case_id,))
    mirrored = cur.fetchone()
    if mirrored is not None:
        raise Refused("CS003", f"case {change.case_id} is owned by {mirrored[0]}")
    cur.execute(
        "SELECT version, event_id::text FROM casesync_api.record_change("
        "%s, %s, %s, %s::jsonb, coalesce(%s::timestamptz, now()))",
        (change.case_id, change.event_type, change.expected_version, change.fields_json,
         change.occurred_at),
    )  # fmt: skip
    version, event_id = cur.fetchone()
    recorded = Recorded(change.case_id, int(version), event_id)
    cur.execute(
        "UPDATE casesync_intake.idempotency_keys SET answer = %s WHERE idempotency_key = %s",
        (json.dumps(recorded.as_json()), key),
    )
    return recorded


def _primary_message(error: psycopg2.Error) -> str:
    diag = getattr(error, "diag", None)
    return (getattr(diag, "message_primary", None) or type(error).__name__).strip()


def add_token(cur: Any, token: Token, label: str) -> None:
    """Store a new token's digest (never the token)."""
    cur.execute(
        "INSERT INTO casesync_intake.tokens (token_id, token_sha256, label) VALUES (%s, %s, %s)",
        (token.token_id, token.digest, label),
    )


def issue_token(url: str, region: str, label: str) -> Token:
    """A new token of ``region``, its digest stored in the database at ``url``."""
    token = issue(region)
    conn = connect(url, application_name="casesync-tokens")
    try:
        with transaction(conn) as cur:
            add_token(cur, token, label)
    finally:
        conn.close()
    return token


def revoke_token(cur: Any, token_id: str) -> bool:
    """Revoke a token from now on; False when it was revoked already. UnknownToken when none."""
    cur.execute(
        "UPDATE casesync_intake.tokens SET revoked_at = coalesce(revoked_at, now())"
        " WHERE token_id = %s RETURNING revoked_at = now()",
        (token_id,),
    )
    row = cur.fetchone()
    if row is None:
        raise UnknownToken(f"no intake token {token_id!r} in this region's database")
    return bool(row[0])


def list_tokens(cur: Any) -> list[TokenRow]:
    cur.execute(
        "SELECT token_id, label, created_at, revoked_at FROM casesync_intake.tokens"
        " ORDER BY created_at, token_id"
    )
    return [TokenRow(*row) for row in cur.fetchall()]
