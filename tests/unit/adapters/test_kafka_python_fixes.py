"""The repairs to kafka-python: a node that dies while we connect is a typed connection failure,
and a metadata refresh loop that fails is started again until its client closes."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from kafka.cluster import ClusterMetadata
from kafka.errors import KafkaConnectionError, NodeNotReadyError
from kafka.net.manager import KafkaConnectionManager
from structlog.testing import capture_logs

from casesync.adapters import kafka_python_fixes
from casesync.adapters.kafka_python_fixes import connection_errors_typed, restarted_when_failed

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


def test_every_client_module_installs_the_repairs_once() -> None:
    """Importing the client factory installs both repairs; installing again wraps nothing twice
    (a kafka-python that renamed either method fails here, not in a cluster outage)."""
    import casesync.adapters.kafka_clients  # noqa: F401 - the import installs them

    assert kafka_python_fixes.installed()
    build, loop = KafkaConnectionManager._build_transport, ClusterMetadata._refresh_loop
    kafka_python_fixes.install()
    assert (KafkaConnectionManager._build_transport, ClusterMetadata._refresh_loop) == (build, loop)
