"""PostgreSQL edge: connections with clear errors, retriable-error detection, migrations.

Migrations are plain ``NNN_name.sql`` files in a component's ``migrations/`` folder (producers and
consumers each own theirs). They are applied in order, once, each in its own transaction,
recorded in ``casesync_migrations`` (component, version). A region database holds both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.errorcodes
import psycopg2.extensions
import structlog
from psycopg2 import sql

from casesync.errors import Unreachable
from casesync.settings import redact_url

log = structlog.get_logger(__name__)
Connection = psycopg2.extensions.connection
T = TypeVar("T")

# SQLSTATE classes that say "try again", not "this input is wrong".
_RETRIABLE_CLASSES = ("08", "40", "53", "57")  # connection, rollback, resources, operator


def is_retriable(error: BaseException) -> bool:
    """True for PostgreSQL failures that pass with time (lost connection, restart, deadlock)."""
    if isinstance(error, psycopg2.OperationalError | psycopg2.InterfaceError):
        return error.pgcode is None or error.pgcode[:2] in _RETRIABLE_CLASSES
    if isinstance(error, psycopg2.Error) and error.pgcode:
        return error.pgcode[:2] in _RETRIABLE_CLASSES
    return False


def connect(url: str, *, application_name: str = "casesync", timeout_s: int = 5) -> Connection:
    """A new connection; Unreachable (naming the redacted URL) when the server does not answer."""
    try:
        return psycopg2.connect(url, connect_timeout=timeout_s, application_name=application_name)
    except psycopg2.OperationalError as e:
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise Unreachable("PostgreSQL", redact_url(url), reason) from e


@contextmanager
def transaction(conn: Connection) -> Iterator[Any]:
    """A cursor inside one transaction: committed on success, rolled back on any error."""
    try:
        with conn.cursor() as cur:
            yield cur
        conn.commit()
    except BaseException:
        if not conn.closed:
            conn.rollback()
        raise


def query_rows(
    url: str, statement: str, params: Sequence[Any] = (), *, application_name: str = "casesync"
) -> list[tuple[Any, ...]]:
    """The rows of one statement in a transaction of its own, on a connection opened for it
    (none for a statement that returns nothing): for tools and tests, not hot paths."""
    conn = connect(url, application_name=application_name)
    try:
        with transaction(conn) as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def database_name(url: str) -> str:
    """The database a ``postgresql://`` URL names."""
    return urlsplit(url).path.lstrip("/")


def with_database(url: str, name: str) -> str:
    """``url`` naming database ``name`` instead: user, host, port and options (e.g. sslmode)
    kept. ``postgres`` is the server's own database, for work on databases themselves."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def ensure_database(url: str) -> bool:
    """Create the database named in ``url`` when missing (connecting to ``postgres``)."""
    name = database_name(url)
    conn = connect(with_database(url, "postgres"))
    conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is not None:
                return False
            try:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg2.errors.DuplicateDatabase:
                return False  # a concurrent `region init` made it first
            return True
    finally:
        conn.close()


def drop_database(url: str) -> None:
    """Drop the database named in ``url`` if it exists, closing its sessions first."""
    conn = connect(with_database(url, "postgres"))
    conn.autocommit = True  # DROP DATABASE cannot run inside a transaction
    try:
        with conn.cursor() as cur:
            statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            cur.execute(statement.format(sql.Identifier(database_name(url))))
    finally:
        conn.close()


@dataclass(frozen=True, slots=True)
class Migration:
    component: str
    version: int
    name: str
    path: Path


def migrations_in(component: str, folder: Path) -> list[Migration]:
    """The ``NNN_name.sql`` files of one component, in version order."""
    found = []
    for path in sorted(folder.glob("*.sql")):
        number, _, name = path.stem.partition("_")
        found.append(Migration(component, int(number), name, path))
    return found


def apply_migrations(conn: Connection, migrations: list[Migration]) -> list[Migration]:
    """Apply the ones not yet applied, each in its own transaction; return those applied.

    A transaction-level advisory lock serialises concurrent runs (two processes of one region
    starting at once), so each migration runs exactly once.
    """
    applied: list[Migration] = []
    with transaction(conn) as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS casesync_migrations ("
            " component text NOT NULL, version int NOT NULL, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, version))"
        )
    for migration in migrations:
        with transaction(conn) as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('casesync_migrations'))")
            cur.execute(
                "SELECT 1 FROM casesync_migrations WHERE component = %s AND version = %s",
                (migration.component, migration.version),
            )
            if cur.fetchone() is not None:
                continue
            cur.execute(migration.path.read_text())
            cur.execute(
                "INSERT INTO casesync_migrations (component, version, name) VALUES (%s, %s, %s)",
                (migration.component, migration.version, migration.name),
            )
        applied.append(migration)
        log.info("migration applied", component=migration.component, version=migration.version)
    return applied


def retrying(
    operation: Callable[[], T],
    *,
    what: str,
    attempts: int | None = None,
    first_delay: float = 0.2,
    max_delay: float = 5.0,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """Run ``operation``, retrying retriable PostgreSQL errors with capped exponential backoff."""
    import time

    sleep = sleep or time.sleep
    delay, attempt = first_delay, 0
    while True:
        try:
            return operation()
        except (psycopg2.Error, Unreachable) as e:
            attempt += 1
            retriable = isinstance(e, Unreachable) or is_retriable(e)
            if not retriable or (attempts is not None and attempt >= attempts):
                raise
            log.warning("database unavailable, retrying", what=what, error=type(e).__name__,
                        delay_s=round(delay, 2))  # fmt: skip
            sleep(delay)
            delay = min(max_delay, delay * 2)
