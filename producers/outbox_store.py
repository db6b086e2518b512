"""The relay's PostgreSQL edge: leadership, reading unpublished outbox rows, marking them.

One relay of a region publishes at a time (a session advisory lock); others stand by and take
over within a second when it dies, because the lock goes with its connection.
"""

from __future__ import annotations

import select
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from psycopg2 import sql

from casesync.adapters.postgres import Connection, connect

# Key of the session advisory lock that makes one relay per region database the publisher.
RELAY_LOCK_KEY = 0x0C5E_5C_01
# Channel the outbox trigger notifies on every commit that adds rows (migration 002).
OUTBOX_CHANNEL = "casesync_outbox"


# One event to publish: (id, case_id, event_id, event_type, payload, target_regions), exactly the
# tuple psycopg2 returns (payload a read-only memoryview, targets a list of region codes), because
# the relay handles tens of thousands a second and building any other object per row costs a
# tenth of its time.
OutboxRow = tuple[int, str, str, str, memoryview, list[str]]


@dataclass(frozen=True, slots=True)
class Backlog:
    """What ops reads: unpublished rows and the age of the oldest one; rows refused at
    encoding (recorded through SQL, never to be published) apart."""

    unpublished: int
    oldest_age_s: float | None  # None when nothing waits
    refused: int = 0


# Fresh rows (id > after), then the ids of unpublished rows at or below ``after`` (stragglers).
# Rows recorded through SQL wait for their payload (producers.encoding): fresh rows stop below the
# first of them, so no later version of its case overtakes it; refused ones are never read.
_FETCH = (
    "(SELECT id, case_id, event_id::text, event_type, payload, target_regions FROM outbox"
    "  WHERE published_at IS NULL AND id > %(after)s AND payload IS NOT NULL"
    "  AND id < coalesce((SELECT min(id) FROM outbox"
    "   WHERE payload IS NULL AND refused_reason IS NULL), 9223372036854775807)"
    "  ORDER BY id LIMIT %(limit)s)"
    " UNION ALL"
    " (SELECT id, NULL, NULL, NULL, NULL, NULL FROM outbox"
    "  WHERE published_at IS NULL AND id <= %(after)s AND payload IS NOT NULL ORDER BY id)"
)


class OutboxStore:
    """A relay's own connection to the region database (autocommit: each statement stands)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: Connection | None = None
        self._listening = False  # LISTEN issued on the current connection

    def clone(self) -> OutboxStore:
        """Another store on the same database, with a connection of its own."""
        return OutboxStore(self._url)

    def open(self) -> None:
        self.close()
        self._conn = connect(self._url, application_name="casesync-relay")
        self._conn.autocommit = True
        with self._conn.cursor() as cur:
            # Published rows leave dead entries in the unpublished-rows index until a vacuum.
            # A plain index scan marks each one it meets as dead (once no snapshot can still
            # see the row unpublished), so later reads skip it; a bitmap scan (the planner's
            # choice for the straggler read) never does, and every read went through every row
            # published since the last vacuum: 3 ms a read after 8,000 rows, and growing. The
            # relay's other statements look rows up by id, where a plain index scan is as good.
            cur.execute("SET enable_bitmapscan TO off")

    def close(self) -> None:
        if self._conn is not None and not self._conn.closed:
            self._conn.close()
        self._conn = None
        self._listening = False

    def wait_for_rows(self, timeout: float) -> bool:
        """Block until a commit adds outbox rows (True) or ``timeout`` passes (False).

        Notifications are kept until this store's ``fetch`` forgets them, just before it
        reads; one that came before a read on another connection (the relay's read-ahead)
        wakes the relay once more for nothing, never too late.
        """
        conn = self.conn
        if not self._listening:
            self._listen()
        if not conn.notifies and select.select([conn], [], [], timeout)[0]:
            conn.poll()
        return bool(conn.notifies)

    def rows_announced(self) -> bool:
        """Whether a commit may have added outbox rows since this store's last ``fetch``,
        without blocking (yes can be stale, as in ``wait_for_rows``; no means nothing was
        announced yet).

        A connection that does not listen yet cannot know (a NOTIFY before LISTEN is not
        delivered): it starts listening and answers yes.
        """
        conn = self.conn
        if not self._listening:
            self._listen()
            return True
        if not conn.notifies:
            conn.poll()
        return bool(conn.notifies)

    def _listen(self) -> None:
        with self.conn.cursor() as cur:
            cur.execute(sql.SQL("LISTEN {}").format(sql.Identifier(OUTBOX_CHANNEL)))
        self._listening = True

    @property
    def conn(self) -> Connection:
        if self._conn is None or self._conn.closed:
            self.open()
        assert self._conn is not None
        return self._conn

    def try_lead(self) -> bool:
        """Take the publisher lock if free; it is held until this connection closes."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (RELAY_LOCK_KEY,))
            row = cur.fetchone()
            return row is not None and bool(row[0])

    def fetch(self, after: int, limit: int) -> tuple[list[OutboxRow], list[int]]:
        """Unpublished rows with id > after in id order (each case's version order), and the
        ids of unpublished rows at or below ``after``, both seen in one snapshot.

        One snapshot is what makes stragglers safe to find: when a fresh row of a case is
        seen, the earlier version it was written after committed before it, so it is seen
        too, either among the fresh rows or among the ids below.
        """
        self.conn.notifies.clear()  # this read sees whatever they announced
        with self.conn.cursor() as cur:
            cur.execute(_FETCH, {"after": after, "limit": limit})
            rows = cur.fetchall()
        fresh = [row for row in rows if row[1] is not None]
        below = [row[0] for row in rows if row[1] is None] if len(fresh) < len(rows) else []
        return fresh, below

    def fetch_ids(self, ids: list[int]) -> list[OutboxRow]:
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT id, case_id, event_id::text, event_type, payload, target_regions"
                " FROM outbox WHERE id = ANY(%s) ORDER BY id",
                (ids,),
            )
            rows: list[OutboxRow] = cur.fetchall()
            return rows

    def mark_published(self, ids: Iterable[int]) -> None:
        with self.conn.cursor() as cur:
            cur.execute(
                "UPDATE outbox SET published_at = clock_timestamp()"
                " WHERE id = ANY(%s) AND published_at IS NULL",
                (list(ids),),
            )

    def prune(self, older_than: timedelta, limit: int = 10_000) -> int:
        """Delete published rows older than the retention, a bounded slice at a time."""
        with self.conn.cursor() as cur:
            cur.execute(
                # Oldest rows sit at the low end of the primary key: walk it, stop at the limit.
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
                " WHERE published_at < now() - %s ORDER BY id LIMIT %s)",
                (older_than, limit),
            )
            return int(cur.rowcount)

    def backlog(self) -> Backlog:
        with self.conn.cursor() as cur:
            return read_backlog(cur)

    def report_health(self, *, publishing: bool, reason: str, lasted_s: float) -> None:
        """Record whether the relay publishes, and why not (state in ``relay_health``)."""
        with self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO relay_health (publishing, reason, since, reported_at)"
                " VALUES (%(publishing)s, %(reason)s,"
                "  now() - make_interval(secs => %(lasted)s), now())"
                " ON CONFLICT (singleton) DO UPDATE SET publishing = excluded.publishing,"
                "  reason = excluded.reason, since = excluded.since,"
                "  reported_at = excluded.reported_at",
                {"publishing": publishing, "reason": reason, "lasted": lasted_s},
            )

    def report_held(self, *, rows: int, reason: str) -> None:
        """Record how many rows wait for an inbox the relay cannot write, and why (a relay
        that never led has no health row: it is made publishing, as leading would)."""
        with self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO relay_health (publishing, since, reported_at, held_rows, held_reason)"
                " VALUES (true, now(), now(), %(rows)s, %(reason)s)"
                " ON CONFLICT (singleton) DO UPDATE SET held_rows = excluded.held_rows,"
                "  held_reason = excluded.held_reason, reported_at = excluded.reported_at",
                {"rows": rows, "reason": reason},
            )


@dataclass(frozen=True, slots=True)
class RelayHealth:
    """The relay's last word on publishing (``OutboxStore.report_health``)."""

    publishing: bool
    reason: str
    for_s: float  # how long the state has lasted
    reported_s_ago: float
    held_rows: int = 0  # rows waiting for an inbox the relay's principal cannot see
    held_reason: str = ""


def read_relay_health(cur: Any) -> RelayHealth | None:
    """The relay's last report; None when no relay ever led this region."""
    cur.execute(
        "SELECT publishing, reason, extract(epoch FROM now() - since),"
        " extract(epoch FROM now() - reported_at), held_rows, held_reason FROM relay_health"
    )
    row = cur.fetchone()
    if row is None:
        return None
    return RelayHealth(row[0], row[1], float(row[2]), float(row[3]), row[4], row[5])


def read_backlog(cur: Any) -> Backlog:
    """Unpublished count and oldest age; both come from the small partial index."""
    cur.execute(
        "SELECT count(*) FILTER (WHERE refused_reason IS NULL),"
        " extract(epoch FROM now() - min(created_at) FILTER (WHERE refused_reason IS NULL)),"
        " count(*) FILTER (WHERE refused_reason IS NOT NULL)"
        " FROM outbox WHERE published_at IS NULL"
    )
    count, age, refused = cur.fetchone()
    return Backlog(int(count), None if age is None else float(age), int(refused))
