"""The repairs to kafka-python: a node that dies while we connect is a typed connection failure,
a metadata refresh loop that fails is started again until its client closes, a group join
once begun is awaited until it finishes, and a selector's wakeups are written once until read."""

from __future__ import annotations

import asyncio
import socket
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from kafka.cluster import ClusterMetadata
from kafka.coordinator.consumer import ConsumerCoordinator
from kafka.errors import KafkaConnectionError, NodeNotReadyError
from kafka.net.manager import KafkaConnectionManager
from kafka.net.selector import NetworkSelector
from structlog.testing import capture_logs

from casesync.adapters import kafka_python_fixes
from casesync.adapters.kafka_python_fixes import (
    connection_errors_typed,
    pending_join_awaited,
    restarted_when_failed,
)

NODE = SimpleNamespace(node_id=3)


def test_a_reset_socket_while_building_a_transport_is_a_kafka_connection_error() -> None:
    """A bare ConnectionResetError (TLS wrap of a socket the dying node reset) reaches
    kafka-python as KafkaConnectionError naming the node, with the reset as its cause."""

    async def build(manager: Any, node: Any, timeout_at: float | None = None) -> Any:
        raise ConnectionResetError(104, "Connection reset by peer")

    with pytest.raises(KafkaConnectionError, match="node 3") as raised:
        asyncio.run(connection_errors_typed(build)(None, NODE, timeout_at=1.0))
    assert isinstance(raised.value.__cause__, ConnectionResetError)


def test_a_transport_or_a_kafka_error_passes_through_unchanged() -> None:
    """A built transport is returned as it was; a Kafka error keeps its own type."""

    async def build(manager: Any, node: Any) -> str:
        return "transport"

    async def refused(manager: Any, node: Any) -> str:
        raise NodeNotReadyError(3)

    assert asyncio.run(connection_errors_typed(build)(None, NODE)) == "transport"
    with pytest.raises(NodeNotReadyError):
        asyncio.run(connection_errors_typed(refused)(None, NODE))


def test_a_failed_refresh_loop_is_logged_and_started_again_after_a_pause() -> None:
    """A loop that fails twice (any exception) runs a third time, with a pause before each
    restart and one warning per failure naming the error type."""
    cluster = SimpleNamespace(closed=False)
    runs: list[int] = []
    pauses: list[int] = []

    async def loop(_: Any) -> None:
        runs.append(1)
        if len(runs) < 3:
            raise ConnectionResetError(104, "Connection reset by peer")

    async def pause(_: Any) -> None:
        pauses.append(1)

    with capture_logs() as logs:
        asyncio.run(restarted_when_failed(loop, pause)(cluster))
    assert (len(runs), len(pauses)) == (3, 2)
    assert [entry["error"] for entry in logs] == ["ConnectionResetError"] * 2
    assert all(entry["log_level"] == "warning" for entry in logs)


def test_the_loop_of_a_closed_client_is_not_started_again() -> None:
    """A loop that fails after its client closed ends there, silently."""
    cluster = SimpleNamespace(closed=True)
    runs: list[int] = []

    async def loop(_: Any) -> None:
        runs.append(1)
        raise RuntimeError("closed under it")

    async def pause(_: Any) -> None:
        raise AssertionError("no pause for a closed client")

    with capture_logs() as logs:
        asyncio.run(restarted_when_failed(loop, pause)(cluster))
    assert runs == [1]
    assert logs == []


def coordinator(*, rejoining: bool, group_assigns: bool = True) -> SimpleNamespace:
    """A stand-in for kafka-python's ConsumerCoordinator, as far as ``need_rejoin`` reads it."""
    subscription = SimpleNamespace(partitions_auto_assigned=lambda: group_assigns)
    return SimpleNamespace(
        rejoining=rejoining, _subscription=subscription, _auto_assign_all_partitions=lambda: False
    )


def test_a_join_begun_and_unfinished_still_needs_the_rejoin() -> None:
    """While a join is in flight (rejoining) the member needs to rejoin even after kafka-python's
    own check turned False, so the next poll awaits that join instead of dropping it."""
    satisfied = pending_join_awaited(lambda _: False)
    assert satisfied(coordinator(rejoining=True)) is True
    assert satisfied(coordinator(rejoining=False)) is False


def test_the_rejoin_check_otherwise_answers_as_kafka_python_does() -> None:
    """kafka-python's True stays True; a consumer whose partitions are assigned by hand never
    rejoins a group, in a join or not."""
    assert pending_join_awaited(lambda _: True)(coordinator(rejoining=False)) is True
    by_hand = coordinator(rejoining=True, group_assigns=False)
    assert pending_join_awaited(lambda _: False)(by_hand) is False


def test_every_client_module_installs_the_repairs_once() -> None:
    """Importing the client factory installs the three repairs; installing again wraps nothing
    twice (a kafka-python that renamed a method fails here, not in a cluster outage)."""
    import casesync.adapters.kafka_clients  # noqa: F401 - the import installs them

    assert kafka_python_fixes.installed()
    methods = (
        KafkaConnectionManager._build_transport,
        ClusterMetadata._refresh_loop,
        ConsumerCoordinator.need_rejoin,
    )
    kafka_python_fixes.install()
    assert (
        KafkaConnectionManager._build_transport,
        ClusterMetadata._refresh_loop,
        ConsumerCoordinator.need_rejoin,
    ) == methods


def _unread_wakeup_bytes(selector: NetworkSelector) -> int:
    try:
        return len(selector._wakeup_r.recv(1024, socket.MSG_PEEK))
    except BlockingIOError:
        return 0


def test_wakeups_before_a_read_write_one_byte_and_the_next_after_it_writes_again() -> None:
    """A thousand wakeups (a producer's sends while its batches queue) write one byte; once the
    loop has read it, the next wakeup writes again."""
    kafka_python_fixes.install()
    selector = NetworkSelector()
    try:
        for _ in range(1000):
            selector.wakeup()
        assert _unread_wakeup_bytes(selector) == 1
        selector.poll(timeout_ms=0)
        assert _unread_wakeup_bytes(selector) == 0
        selector.wakeup()
        assert _unread_wakeup_bytes(selector) == 1
    finally:
        selector.close()


def test_a_loop_blocked_in_poll_returns_after_every_wakeup() -> None:
    """No wakeup is lost: 300 times, a poll waiting up to 60 s returns once another thread wakes
    it, whether or not wakeups arrive while the loop is still reading the last one."""
    kafka_python_fixes.install()
    selector = NetworkSelector()
    returned = threading.Semaphore(0)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            selector.poll(timeout_ms=60_000)
            returned.release()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        for round_ in range(300):
            selector.wakeup()
            if round_ % 3 == 0:
                selector.wakeup()  # a second one, perhaps while the loop reads the first
            assert returned.acquire(timeout=30), f"poll not woken in round {round_}"
    finally:
        stop.set()
        selector.wakeup()
        thread.join(30)
        selector.close()
