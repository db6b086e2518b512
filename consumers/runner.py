"""The long-running consumer of one region: Kafka in, one PostgreSQL transaction per batch.

Positions live in PostgreSQL, next to the state they describe. Kafka's group offsets are
written after each database commit for lag tools only, never read back. Loop:
  1. poll up to the adaptive batch size;
  2. for partitions assigned since the last poll, read their stored positions and seek there
     (records polled from elsewhere are dropped and fetched again from the right offset);
  3. drop records before a partition's stored position (already applied);
  4. apply the rest in one transaction (``BatchApplier``); transient failures are retried
     with backoff on the same records, a position conflict re-seeks the partitions;
  5. commit the new positions to the Kafka group; publish any new dead letters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg2
import structlog
from kafka import TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from casesync.adapters.postgres import is_retriable, transaction
from casesync.errors import Unreachable
from consumers import store
from consumers.applier import BatchApplier
from consumers.batching import BatchSizer
from consumers.database import Database
from consumers.dlq import DeadLetterPublisher
from consumers.errors import PositionConflict, TransientFailure
from consumers.records import Incoming
from consumers.records import TopicPartition as TP

log = structlog.get_logger(__name__)


@dataclass
class ConsumerStats:
    """What one ``run`` did."""

    batches: int = 0
    records: int = 0
    applied: int = 0
    dead_lettered: int = 0
    retries: int = 0
    conflicts: int = 0


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Notes assignment changes; runs on kafka-python's IO thread, so it only records them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._assigned: set[TP] = set()
        self._revoked: set[TP] = set()

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        with self._lock:
            for tp in revoked:
                self._revoked.add((tp.topic, tp.partition))
                self._assigned.discard((tp.topic, tp.partition))

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        with self._lock:
            for tp in assigned:
                self._assigned.add((tp.topic, tp.partition))

    def take(self) -> tuple[set[TP], set[TP]]:
        """(assigned, revoked) since the last call."""
        with self._lock:
            assigned, revoked = self._assigned, self._revoked
            self._assigned, self._revoked = set(), set()
        return assigned, revoked


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, TransientFailure | Unreachable):
        return True
    return isinstance(error, psycopg2.Error) and is_retriable(error)


class RegionConsumer:
    """Mirrors partner regions' events into one region's database; run it in any thread."""

    def __init__(
        self,
        topics: Sequence[str],
        kafka_factory: Callable[[], Any],
        applier: BatchApplier,
        database: Database,
        dead_letters: DeadLetterPublisher,
        sizer: BatchSizer | None = None,
    ) -> None:
        self.topics = tuple(topics)
        self._kafka_factory = kafka_factory
        self._applier = applier
        self._database = database
        self._dead_letters = dead_letters
        self._sizer = sizer or BatchSizer()
        self._positions: dict[TP, int | None] = {}
        self.stats = ConsumerStats()

    def run(self, stop_event: threading.Event, until_idle: float | None = None) -> ConsumerStats:
        """Consume until ``stop_event`` is set, or no record came for ``until_idle`` seconds."""
        consumer = self._kafka_factory()
        listener = _Listener()
        consumer.subscribe(topics=list(self.topics), listener=listener)
        log.info("consumer started", topics=self.topics)
        last_activity = time.monotonic()
        try:
            while not stop_event.is_set():
                polled = consumer.poll(timeout_ms=200, max_records=self._sizer.size)  # 1
                assigned, revoked = listener.take()
                for tp in revoked:
                    self._positions.pop(tp, None)
                if assigned:  # 2
                    self._seek_to_stored(consumer, assigned, stop_event)
                    last_activity = time.monotonic()
                batch = self._fresh(polled, assigned)  # 3
                if batch:
                    self._apply(consumer, batch, stop_event)  # 4, 5
                    last_activity = time.monotonic()
                elif (
                    until_idle is not None
                    and self._positions
                    and time.monotonic() - last_activity >= until_idle
                ):
                    break
                self._publish_dead_letters()
        finally:
            consumer.close(autocommit=False)
            self._dead_letters.close()
            self._database.discard()
        log.info("consumer stopped", **vars(self.stats))
        return self.stats

    def _fresh(self, polled: dict[Any, list[Any]], just_assigned: set[TP]) -> list[Incoming]:
        batch: list[Incoming] = []
        for ktp, records in polled.items():
            tp = (ktp.topic, ktp.partition)
            if tp in just_assigned or tp not in self._positions:
                continue  # fetched from before the seek: it comes again from the right offset
            position = self._positions[tp] or 0
            for r in records:
                if r.offset >= position:
                    batch.append(
                        Incoming(r.topic, r.partition, r.offset, r.key, r.value,
                                 tuple(r.headers or ()))
                    )  # fmt: skip
        return batch

    def _apply(self, consumer: Any, batch: list[Incoming], stop_event: threading.Event) -> None:
        delay = 0.2
        while True:
            started = time.monotonic()
            try:
                outcome = self._applier.apply(batch, self._positions)
            except PositionConflict as e:
                log.warning("position moved by another member, re-reading", reason=str(e))
                self.stats.conflicts += 1
                self._sizer.failed()
                self._seek_to_stored(consumer, {r.tp for r in batch}, stop_event)
                return
            except Exception as e:
                if not _is_transient(e):
                    raise
                self.stats.retries += 1
                self._sizer.failed()
                self._database.discard()
                log.warning("transient failure, retrying the batch", error=type(e).__name__,
                            detail=str(e).splitlines()[0] if str(e) else "",
                            delay_s=round(delay, 2))  # fmt: skip
                if stop_event.wait(delay):
                    return  # not applied: the next start reads these records again
                delay = min(5.0, delay * 2)
                continue
            break
        self._positions.update(outcome.next_offsets)
        self._sizer.observe(len(batch), time.monotonic() - started)
        self.stats.batches += outcome.transactions
        self.stats.records += len(batch)
        self.stats.applied += outcome.applied
        self.stats.dead_lettered += outcome.dead_lettered
        self._commit_group(consumer, outcome.next_offsets)
        if outcome.dead_lettered:
            self._dead_letters.notify()

    def _publish_dead_letters(self) -> None:
        try:
            self._dead_letters.maybe_publish()
        except Exception as e:
            if not _is_transient(e):
                raise
            self._database.discard()  # the rows wait for the next round
            log.warning("dead letters not published yet", error=type(e).__name__)

    def _seek_to_stored(self, consumer: Any, tps: set[TP], stop_event: threading.Event) -> None:
        def load() -> dict[TP, int]:
            with transaction(self._database.connection()) as cur:
                return store.load_positions(cur, tps)

        stored = self._retrying(load, stop_event, "read positions")
        if stored is None:
            return
        assignment = {(tp.topic, tp.partition) for tp in consumer.assignment()}
        for tp in tps:
            if tp not in assignment:
                self._positions.pop(tp, None)
                continue
            offset = stored.get(tp)
            self._positions[tp] = offset
            if offset is None:
                consumer.seek_to_beginning(TopicPartition(*tp))  # never consumed here
            else:
                consumer.seek(TopicPartition(*tp), offset)
        log.info("positions restored", partitions=sorted(f"{t}[{p}]={stored.get((t, p))}"
                                                         for t, p in tps))  # fmt: skip

    def _commit_group(self, consumer: Any, offsets: dict[TP, int]) -> None:
        try:
            consumer.commit(
                {TopicPartition(*tp): OffsetAndMetadata(offset, "", -1)
                 for tp, offset in offsets.items()},
                timeout_ms=5000,
            )  # fmt: skip
        except KafkaError as e:  # lag tools lag a little; the database holds the truth
            log.info("group offsets not committed", error=type(e).__name__)

    def _retrying(self, operation: Callable[[], Any], stop_event: threading.Event,
                  what: str) -> Any:  # fmt: skip
        delay = 0.2
        while not stop_event.is_set():
            try:
                return operation()
            except Exception as e:
                if not _is_transient(e):
                    raise
                self._database.discard()
                log.warning("transient failure, retrying", what=what, error=type(e).__name__)
                stop_event.wait(delay)
                delay = min(5.0, delay * 2)
        return None
