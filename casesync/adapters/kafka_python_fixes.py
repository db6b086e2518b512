"""Four repairs to kafka-python 3.0.12: a client's cluster metadata kept fresh after a node dies,
a consumer's group join finished once it has begun, and a producer's sender woken once, not per
record.

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
What went wrong on a busy three-node cluster (a consumer with nothing assigned for 30 s):
  3. A consumer that leads its group rejoins when its metadata no longer matches the snapshot
     its assignment was made from (``ConsumerCoordinator.need_rejoin``): it revokes its
     partitions and sends JoinGroup. A ``poll`` that returns before the answer leaves the join in
     flight; the answer takes a new snapshot, so ``need_rejoin`` turns False and no later ``poll``
     awaits the join again. Its SyncGroup result is dropped, and the member stays REBALANCING,
     without partitions or heartbeats. Java's client asks "rejoin needed *or pending*"
     (KAFKA-9815).
What cost a producer CPU with every record once its batches queue up:
  4. ``KafkaProducer.send`` wakes the sender whenever a partition holds more than one batch, and
     ``NetworkSelector.wakeup`` writes a byte to its wakeup socket each time: a system call per
     record, and a sender thread woken per record to take the GIL from the sending thread. Big
     records fill batches sooner, so the relay's signed records hit it and unsigned ones did not
     (0.26-0.95 wakeups a record against none; 4-6 us of system time a record). Java's selector
     writes its wakeup once until the selector has woken.
``install()`` wraps the first three methods, leaving kafka-python's code untouched: a bare
``OSError`` while building a transport becomes the ``KafkaConnectionError`` the library handles,
a metadata loop that fails anyway is logged and started again, and ``need_rejoin`` also says True
while a join begun is unfinished. It replaces ``wakeup`` by one that writes only when no earlier
byte waits unread, and wraps ``_process_events`` to note that the byte was read. kafka-python's
master has the same code (checked August and December 2026); remove each repair once it is
fixed there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from kafka.cluster import ClusterMetadata
from kafka.coordinator.consumer import ConsumerCoordinator
from kafka.errors import KafkaConnectionError, KafkaError
from kafka.net.manager import KafkaConnectionManager
from kafka.net.selector import NetworkSelector

log = structlog.get_logger(__name__)

_INSTALLED = "_casesync_fix"  # marks a wrapped method, so installing twice wraps once
# Set on a selector from its wakeup's write until its loop has read the wakeup socket.
_WAKEUP_PENDING = "_casesync_wakeup_pending"


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


def pending_join_awaited(need_rejoin: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """``need_rejoin`` that also says True while a join begun is not finished (``rejoining``),
    for a member whose partitions are assigned by its group: every later ``poll`` then awaits
    that join until the member holds its new assignment."""

    def rejoin_needed_or_pending(coordinator: Any) -> bool:
        if need_rejoin(coordinator):
            return True
        return bool(
            coordinator.rejoining
            and coordinator._subscription.partitions_auto_assigned()
            and not coordinator._auto_assign_all_partitions()
        )

    setattr(rejoin_needed_or_pending, _INSTALLED, True)
    return rejoin_needed_or_pending


def coalesced_wakeup(selector: Any) -> None:
    """``NetworkSelector.wakeup`` that writes its byte only when none waits unread: the loop
    wakes for the first and then looks at everything done before it reads the socket."""
    if getattr(selector, _WAKEUP_PENDING, False):
        return
    setattr(selector, _WAKEUP_PENDING, True)
    try:
        selector._wakeup_w.send(b"\x00")
    except BlockingIOError:
        pass  # the socket is full of unread bytes: the loop wakes anyway
    except OSError:
        setattr(selector, _WAKEUP_PENDING, False)  # closed or being rebuilt: nothing was written


setattr(coalesced_wakeup, _INSTALLED, True)


def wakeup_read_noted(
    process_events: Callable[[Any, list[Any]], None],
) -> Callable[[Any, list[Any]], None]:
    """``process_events`` (``_process_events``, which reads the wakeup socket) that lets the next
    wakeup write again once the socket was read. Cleared after the read, before the loop runs
    its tasks: a wakeup in between is not written, and the tasks it asked for run now anyway."""

    def process(selector: Any, event_list: list[Any]) -> None:
        woken = any(key.fileobj is selector._wakeup_r for key, _ in event_list)
        process_events(selector, event_list)
        if woken:
            setattr(selector, _WAKEUP_PENDING, False)

    setattr(process, _INSTALLED, True)
    return process


def _retry_backoff(cluster: Any) -> Awaitable[Any]:
    # kafka-python's own pause between failed metadata requests, on the client's IO loop.
    return cluster._manager._net.sleep(cluster.config["retry_backoff_ms"] / 1000)  # type: ignore[no-any-return]


def install() -> None:
    """Put the four repairs in place (idempotent); call before building a client."""
    if not getattr(KafkaConnectionManager._build_transport, _INSTALLED, False):
        KafkaConnectionManager._build_transport = connection_errors_typed(
            KafkaConnectionManager._build_transport
        )
    if not getattr(ClusterMetadata._refresh_loop, _INSTALLED, False):
        ClusterMetadata._refresh_loop = restarted_when_failed(
            ClusterMetadata._refresh_loop, _retry_backoff
        )
    if not getattr(ConsumerCoordinator.need_rejoin, _INSTALLED, False):
        ConsumerCoordinator.need_rejoin = pending_join_awaited(ConsumerCoordinator.need_rejoin)
    if not getattr(NetworkSelector._process_events, _INSTALLED, False):
        NetworkSelector._process_events = wakeup_read_noted(NetworkSelector._process_events)
    NetworkSelector.wakeup = coalesced_wakeup


def installed() -> bool:
    """Whether the four repairs are in place."""
    return all(
        getattr(method, _INSTALLED, False)
        for method in (
            KafkaConnectionManager._build_transport,
            ClusterMetadata._refresh_loop,
            ConsumerCoordinator.need_rejoin,
            NetworkSelector._process_events,
            NetworkSelector.wakeup,
        )
    )
