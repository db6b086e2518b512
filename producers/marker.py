"""Marks acknowledged outbox rows published on a connection of its own, in the background.

The relay hands over each fully acknowledged batch and moves on to the next sends, so the
database's work overlaps the broker's instead of following it. Until a row is marked it is
``pending``: the relay must neither treat it as a straggler nor fetch it again.
"""

from __future__ import annotations

import queue
import threading

from producers.outbox_store import OutboxStore

_STOP: list[int] = []


class Marker:
    def __init__(self, store: OutboxStore) -> None:
        self._store = store
        self._queue: queue.Queue[list[int]] = queue.Queue()
        self._pending: set[int] = set()
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="outbox-marker", daemon=True)
        self._thread.start()

    def mark(self, ids: list[int]) -> None:
        """Queue ids to mark; raise the marker's last error, if it has one."""
        self.raise_error()
        with self._lock:
            self._pending.update(ids)
        self._queue.put(ids)

    def pending(self) -> set[int]:
        with self._lock:
            return set(self._pending)

    def raise_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every queued id is marked (or the marker failed)."""
        self._queue.join()
        self.raise_error()

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=30)
        self._store.close()

    def _run(self) -> None:
        while True:
            ids = self._queue.get()
            try:
                if ids is _STOP:
                    return
                self._mark(ids)
            finally:
                self._queue.task_done()

    def _mark(self, ids: list[int]) -> None:
        try:
            self._store.mark_published(ids)
        except Exception as e:  # noqa: BLE001 - handed to the relay loop, which retries or stops
            self._store.close()
            self._error = e
            # The rows stay unpublished in the database; forget them here so the relay
            # fetches and sends them again (a duplicate, never a loss).
        with self._lock:
            self._pending.difference_update(ids)
