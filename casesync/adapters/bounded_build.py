"""Build a kafka-python client without waiting for ever on a broker that is frozen.

kafka-python 3.0.12 honours its bootstrap timeout while it connects, but not while it waits for
a TLS or SASL answer: a broker that accepts connections and then says nothing (SIGSTOPped, or a
network that drops packets) held a relay inside ``KafkaProducer(...)`` for good, and ``ops
status`` with it. ``BoundedBuild`` runs the constructor on a daemon thread and waits at most
``timeout_s``; a build still running is waited on again by the next call rather than starting
another, so a long freeze holds one thread, not one per attempt, and its client is used (or
closed) once it arrives.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Generic, TypeVar

from kafka.errors import KafkaTimeoutError

T = TypeVar("T")


class BoundedBuild(Generic[T]):
    """``get()`` builds with ``factory`` or raises KafkaTimeoutError after ``timeout_s``."""

    def __init__(self, factory: Callable[[], T], timeout_s: float) -> None:
        self._factory = factory
        self._timeout_s = timeout_s
        self._pending: Future[T] | None = None

    def get(self) -> T:
        """A new client; the error its constructor raised; or KafkaTimeoutError when it did
        not return within ``timeout_s`` (it goes on, and the next call waits for it)."""
        if self._pending is None:
            self._pending = _start(self._factory)
        try:
            return self._pending.result(timeout=self._timeout_s)
        except FutureTimeout:
            raise KafkaTimeoutError(
                f"no broker answered within {self._timeout_s:g} s while connecting"
            ) from None
        finally:
            if self._pending.done():
                self._pending = None

    def abandon(self) -> None:
        """Give up a build still running: its client is closed the moment it arrives."""
        pending, self._pending = self._pending, None
        if pending is not None and not pending.done():
            pending.add_done_callback(_close_result)


def _start(factory: Callable[[], T]) -> Future[T]:
    future: Future[T] = Future()

    def build() -> None:
        try:
            future.set_result(factory())
        except BaseException as e:  # noqa: BLE001 - handed to the waiting caller
            future.set_exception(e)

    threading.Thread(target=build, name="casesync-kafka-build", daemon=True).start()
    return future


def _close_result(future: Future[Any]) -> None:
    if future.exception() is None:
        with contextlib.suppress(Exception):  # an abandoned client: nothing to report
            future.result().close(timeout=0)
