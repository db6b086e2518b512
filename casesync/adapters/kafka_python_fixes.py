"""Two repairs to kafka-python 3.0.12 that keep a client's cluster metadata fresh after a node dies.

What went wrong (``make test-cluster``, a node SIGKILLed under traffic, TLS to the brokers):
  1. The client opens a connection to the dying node. Its socket is reset before the TLS wrap,
     and ``ssl.wrap_socket`` raises a bare ``ConnectionResetError`` (Python checks the peer with
     ``recv(1)``). ``KafkaConnectionManager._build_transport`` wraps only the TCP connect and the
     TLS handshake into ``KafkaConnectionError``, so every request waiting on that connection, a
     metadata request among them, fails with the bare ``OSError``.
  2. ``ClusterMetadata._refresh_loop`` retries ``KafkaError`` only (upstream PR #2936); any other
     exception ends the loop, nobody is told, and ``start_refresh_loop`` never starts another.
     The client keeps the leaders and epochs of the moment the node died, for good: partitions
     whose leadership moved are fetched from, and validated against, the old leader forever
     (FENCED_LEADER_EPOCH, then a metadata update that never comes), while the rest flow.
The loop is unchanged on kafka-python's master in August 2026 (its connection code is rewritten
there for 3.1). ``install()`` wraps both methods, leaving kafka-python's code untouched: a bare
``OSError`` while building a transport becomes the ``KafkaConnectionError`` the library
handles, and a metadata loop that fails anyway is logged and started again. Remove this module
once kafka-python fixes both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from kafka.cluster import ClusterMetadata
from kafka.errors import KafkaConnectionError, KafkaError
from kafka.net.manager import KafkaConnectionManager

log = structlog.get_logger(__name__)

_INSTALLED = "_casesync_fix"  # marks a wrapped method, so installing twice wraps once


def connection_errors_typed(
    build: Callable[..., Awaitable[Any]],
) -> Callable[..., Awaitable[Any]]:
    """``build`` (``_build_transport``) raising ``KafkaConnectionError`` where it raised a bare
    ``OSError``: a node that dies while we connect is a connection failure like any other."""

    async def build_transport(manager: Any, node: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await build(manager, node, *args, **kwargs)
        except KafkaError:
            raise
        except OSError as e:
            raise KafkaConnectionError(f"connection to node {node.node_id} failed: {e}") from e

    setattr(build_transport, _INSTALLED, True)
    return build_transport


def restarted_when_failed(
    loop: Callable[[Any], Awaitable[None]],
    pause: Callable[[Any], Awaitable[Any]],
) -> Callable[[Any], Awaitable[None]]:
    """``loop`` (``_refresh_loop``) run again after ``pause`` whenever it fails, until the
    cluster metadata is closed: metadata that stops refreshing strands partitions for good."""

    async def refresh_loop(cluster: Any) -> None:
        while True:
            try:
                await loop(cluster)
                return
            except Exception as e:  # noqa: BLE001 - whatever ended it, metadata must refresh
                if cluster.closed:
                    return
                log.warning("Kafka client metadata refresh failed; refreshing again",
                            error=type(e).__name__, detail=str(e))  # fmt: skip
                await pause(cluster)

    setattr(refresh_loop, _INSTALLED, True)
    return refresh_loop


def _retry_backoff(cluster: Any) -> Awaitable[Any]:
    # kafka-python's own pause between failed metadata requests, on the client's IO loop.
    return cluster._manager._net.sleep(cluster.config["retry_backoff_ms"] / 1000)  # type: ignore[no-any-return]


def install() -> None:
    """Wrap kafka-python's two methods (idempotent); call before building a client."""
    if not getattr(KafkaConnectionManager._build_transport, _INSTALLED, False):
        KafkaConnectionManager._build_transport = connection_errors_typed(
            KafkaConnectionManager._build_transport
        )
    if not getattr(ClusterMetadata._refresh_loop, _INSTALLED, False):
        ClusterMetadata._refresh_loop = restarted_when_failed(
            ClusterMetadata._refresh_loop, _retry_backoff
        )


def installed() -> bool:
    """Whether both repairs are in place."""
    return all(
        getattr(method, _INSTALLED, False)
        for method in (KafkaConnectionManager._build_transport, ClusterMetadata._refresh_loop)
    )
