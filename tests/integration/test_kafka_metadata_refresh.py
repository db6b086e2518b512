"""A consumer's cluster metadata keeps refreshing after a metadata request failed with an error
kafka-python does not expect, as when a node dies while the client connects to it over TLS."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any

import pytest
from kafka.future import Future
from kafka.protocol.metadata import MetadataRequest

from casesync.adapters.kafka_clients import new_consumer
from casesync.adapters.topics import ensure_topics
from casesync.settings import KafkaAccess
from casesync.testing import TEST_TOPICS

pytestmark = pytest.mark.integration


def _within(seconds: float, call: Callable[[], Any]) -> Any:
    """``call()`` in a daemon thread: its result or exception, or TimeoutError after
    ``seconds`` (a client whose metadata froze waits for ever)."""
    outcome: queue.Queue[tuple[bool, Any]] = queue.Queue()

    def run() -> None:
        try:
            outcome.put((True, call()))
        except Exception as e:  # noqa: BLE001 - handed to the waiting test as it was
            outcome.put((False, e))

    threading.Thread(target=run, daemon=True).start()
    try:
        ok, value = outcome.get(timeout=seconds)
    except queue.Empty:
        raise TimeoutError(f"no answer within {seconds} s") from None
    if not ok:
        raise value
    return value


def test_metadata_refreshes_again_after_a_request_failed_with_a_bare_connection_reset(
    casesync_kafka: KafkaAccess, unique_name: Callable[[str], str]
) -> None:
    """One metadata request fails with ConnectionResetError (not a KafkaError); the consumer
    still answers the next metadata call, listing a topic created meanwhile, instead of never
    refreshing its metadata again."""
    consumer = new_consumer(casesync_kafka, client_id=unique_name("metadata-refresh"))
    manager = consumer._manager
    send = manager.send
    failed: list[object] = []

    def send_failing_once(request: Any, node_id: Any = None, **options: Any) -> Any:
        if not failed and isinstance(request, MetadataRequest):
            failed.append(request)
            return Future().failure(ConnectionResetError(104, "Connection reset by peer"))
        return send(request, node_id, **options)

    manager.send = send_failing_once
    try:
        topic = unique_name("t.metadata-refresh")
        ensure_topics(casesync_kafka, TEST_TOPICS, [topic])
        # This call may wait on the request that fails: kafka-python passes the error on.
        with contextlib.suppress(ConnectionResetError):
            _within(20, consumer.topics)
        assert failed, "a metadata request failed as arranged"
        assert topic in _within(20, consumer.topics)
    finally:
        consumer.close(autocommit=False)
