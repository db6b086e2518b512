"""Reading the relay's next batch while the current one is sent.

With a backlog, the relay's thread alternates between waiting for PostgreSQL and building
records for the broker; a tenth of its time was the wait. The prefetcher runs the next fetch
on a connection of its own meanwhile. It only reads: which rows count as stragglers is still
decided by the relay, against the ids it had in flight or being marked when it asked (a row
marked published after the snapshot was taken must not look like a straggler).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from producers.outbox_store import OutboxRow, OutboxStore


@dataclass(frozen=True)
class Fetched:
    """A fetch's fresh rows and unpublished ids below ``after``, with the ids known then."""

    fresh: list[OutboxRow]
    below: list[int]
    known: set[int]


@dataclass
class _Ahead:
    after: int
    known: set[int]
    future: Future[tuple[list[OutboxRow], list[int]]]


class Prefetcher:
    """At most one fetch ahead, on its own thread and connection."""

    def __init__(self, store: OutboxStore) -> None:
        self._store = store.clone()
        self._executor: ThreadPoolExecutor | None = None  # started with the first fetch ahead
        self._ahead: _Ahead | None = None

    def start(self, after: int, limit: int, known: set[int]) -> None:
        """Fetch rows above ``after`` now; ``known``: ids in flight or being marked now."""
        self.discard()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="casesync-fetch")
        future = self._executor.submit(self._store.fetch, after, limit)
        self._ahead = _Ahead(after, known, future)

    def take(self, after: int) -> Fetched | None:
        """The fetch started for ``after``, or None when there is none (or it was for
        another position). Database errors of the fetch are raised here."""
        ahead, self._ahead = self._ahead, None
        if ahead is None or ahead.after != after:
            _settled(ahead)
            return None
        fresh, below = ahead.future.result()
        return Fetched(fresh, below, ahead.known)

    def discard(self) -> None:
        """Forget any fetch ahead (after a failure the relay reads afresh)."""
        ahead, self._ahead = self._ahead, None
        _settled(ahead)

    def close(self) -> None:
        """Stop the thread and drop the connection; a later ``start`` begins afresh."""
        self.discard()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self._store.close()


def _settled(ahead: _Ahead | None) -> None:
    """Wait for an abandoned fetch, ignoring its outcome: the connection must be idle again."""
    if ahead is not None:
        ahead.future.exception()
