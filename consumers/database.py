"""The consumer's one PostgreSQL connection: opened lazily, dropped after a failure, reopened."""

from __future__ import annotations

from casesync.adapters.postgres import Connection, connect, transaction
from consumers.store import prepare_session


class Database:
    """Owns a connection to the region's database; no I/O until first used."""

    def __init__(self, url: str, application_name: str = "casesync-consumer") -> None:
        self._url = url
        self._application_name = application_name
        self._conn: Connection | None = None

    def connection(self) -> Connection:
        """The open connection, connecting (and preparing the session) if needed."""
        if self._conn is None or self._conn.closed:
            conn = connect(self._url, application_name=self._application_name)
            with transaction(conn) as cur:
                prepare_session(cur)
            self._conn = conn
        return self._conn

    def discard(self) -> None:
        """Close the connection after a failure; the next use opens a fresh one."""
        if self._conn is not None and not self._conn.closed:
            self._conn.close()
        self._conn = None

    @property
    def url(self) -> str:
        """The database URL (may hold a password: do not log it)."""
        return self._url
