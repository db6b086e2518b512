"""The long-running consumer of one region: Kafka in, one PostgreSQL transaction per batch.

Positions live in PostgreSQL, next to the state they describe. Kafka's group offsets are
sent after database commits, at most once a second and without waiting, for lag tools only,
never read back (and the last ones, waited for, when the consumer stops). Loop:
  1. poll up to the adaptive batch size;
  2. for partitions assigned since the last poll, settle the batch in flight, read their
     stored positions and seek there (records polled from elsewhere are dropped and fetched
     again from the right offset);
  3. drop records before a partition's stored position (already applied);
  4. decode and validate them and format their rows (this thread), while the previous batch
     commits;
  5. wait for that previous batch: note its positions for the Kafka group; a position conflict
     re-seeks its partitions (and drops what was polled after it for them), a lost database
     connection all of them (a batch whose commit did not wait for its WAL flush may be gone
     with a crashed server, its positions with it);
  6. hand the new batch to the writer thread: one transaction (``BatchApplier``), retried with
     backoff on transient failures, never dead-lettered for them.
Only this thread touches the Kafka consumer; the writer thread only the database.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg2
import structlog
from kafka import TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from casesync.adapters.postgres import is_retriable, transaction
from casesync.errors import Unreachable
from consumers import store
from consumers.applier import BatchApplier, BatchOutcome, Triaged
from consumers.batching import BatchSizer
from consumers.database import Database
from consumers.dlq import DeadLetterPublisher
from consumers.errors import AwaitingManifest, PositionConflict, TransientFailure
from consumers.rebalance import AssignmentNotes
from consumers.records import Incoming
from consumers.records import TopicPartition as TP

if TYPE_CHECKING:
    from consumers.observing import ConsumerMetrics

log = structlog.get_logger(__name__)

_POLL_MS = 100  # a poll's longest wait for records
_SETTLING_POLL_MS = 1000  # ... and for the group's answer while it assigns partitions


@dataclass
class ConsumerStats:
    """What one ``run`` did."""

    batches: int = 0
    records: int = 0
    applied: int = 0
    dead_lettered: int = 0
    retries: int = 0
    conflicts: int = 0


@dataclass
class _InFlight:
    future: Future[BatchOutcome | None]
    records: list[Incoming]
    started: float


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` passes with time (database or schema source away): retry, never DLQ."""
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
        control: Database,
        dead_letters: DeadLetterPublisher,
        sizer: BatchSizer | None = None,
        metrics: ConsumerMetrics | None = None,
    ) -> None:
        self.topics = tuple(topics)
        self._metrics = metrics
        self._kafka_factory = kafka_factory
        self._applier = applier
        self._control = control  # this thread's connection: positions, dead-letter publishing
        self._dead_letters = dead_letters
        self._sizer = sizer or BatchSizer()
        self._positions: dict[TP, int | None] = {}
        self._rejoin_after_s = 30.0
        self._group_commit_every_s = 1.0
        self._group_offsets: dict[TP, int] = {}
        self._group_committed_at = 0.0
        self._stop = threading.Event()
        # Set by the writer when a write failed (a lost database connection among the causes):
        # a batch committed before it without waiting for its WAL flush may be gone with a
        # crashed server, so every position is read again from the database before the next.
        self._positions_in_doubt = threading.Event()
        self.stats = ConsumerStats()

    @property
    def assignment(self) -> frozenset[TP]:
        """The partitions this member holds now (positions restored from PostgreSQL)."""
        return frozenset(self._positions)

    def run(self, stop_event: threading.Event, until_idle: float | None = None) -> ConsumerStats:
        """Consume until ``stop_event`` is set, or no record came for ``until_idle`` seconds."""
        self._stop = stop_event
        consumer, listener = self._join()
        unassigned_since: float | None = time.monotonic()
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="casesync-apply")
        log.info("consumer started", topics=self.topics)
        pending: _InFlight | None = None
        last_activity = time.monotonic()
        broker_lost_at: float | None = None
        try:
            while not stop_event.is_set():
                try:
                    # While the group settles, a poll waits for the join to end: kafka-python
                    # sends a new JoinGroup in place of one that ended between two polls.
                    wait_ms = _POLL_MS if listener.settled else _SETTLING_POLL_MS
                    polled = consumer.poll(timeout_ms=wait_ms, max_records=self._sizer.size)  # 1
                except KafkaError as e:
                    # kafka-python lets a refused connection out of poll (seen with two of
                    # three nodes down): the brokers may come back, so wait and poll again.
                    if broker_lost_at is None:
                        broker_lost_at = time.monotonic()
                        log.warning("broker unavailable; consumer polls again",
                                    error=type(e).__name__)  # fmt: skip
                    stop_event.wait(1.0)
                    continue
                if broker_lost_at is not None:
                    log.info("broker answers the consumer again",
                             outage_s=round(time.monotonic() - broker_lost_at, 1))  # fmt: skip
                    broker_lost_at = None
                assigned, revoked = listener.take()
                reseeked: set[TP] = set()
                if assigned or revoked:  # 2
                    reseeked = self._settle(consumer, pending)
                    pending = None
                    for tp in revoked:
                        self._positions.pop(tp, None)
                    self._seek_to_stored(consumer, assigned)
                    last_activity = time.monotonic()
                batch = self._fresh(polled, assigned | reseeked)  # 3
                if not batch:
                    self._settle(consumer, pending)
                    pending = None
                    if self._positions or listener.settled:
                        unassigned_since = None
                    elif unassigned_since is None:
                        unassigned_since = time.monotonic()
                    elif time.monotonic() - unassigned_since > self._rejoin_after_s:
                        # No assignment for long: the client may have lost its group for good
                        # (seen after a broker or coordinator hiccup). Join afresh; positions
                        # come from PostgreSQL, so nothing is lost or applied twice. A member
                        # the settled group gave nothing (more members than partitions) waits.
                        waited = round(time.monotonic() - unassigned_since)
                        log.warning("no partitions assigned; joining the group afresh",
                                    waited_s=waited)  # fmt: skip
                        consumer.close(autocommit=False)
                        consumer, listener = self._join()
                        unassigned_since = time.monotonic()
                        continue
                    idle = time.monotonic() - last_activity
                    if until_idle is not None and self._positions and idle >= until_idle:
                        break
                    self._publish_dead_letters()
                    continue
                triaged = self._retrying(functools.partial(self._applier.triage, batch))  # 4
                reseeked = self._settle(consumer, pending)  # 5
                if reseeked and triaged is not None:
                    triaged = _without(triaged, reseeked)
                    batch = list(triaged.records)
                pending = None
                if batch and triaged is not None:  # 6
                    future = writer.submit(self._write, triaged, dict(self._positions))
                    pending = _InFlight(future, batch, time.monotonic())
                last_activity = time.monotonic()
        finally:
            try:
                self._settle(consumer, pending)
                self._commit_group_now(consumer, wait=True)
            finally:
                writer.shutdown(wait=True)
                consumer.close(autocommit=False)
                self._dead_letters.close()
                self._applier.close()
                self._control.discard()
        log.info("consumer stopped", **vars(self.stats))
        return self.stats

    def _join(self) -> tuple[Any, AssignmentNotes]:
        consumer = self._kafka_factory()
        listener = AssignmentNotes()
        # Know the topics' partitions before joining. A member that joins first is assigned
        # nothing ("no partition metadata"), rejoins at once, and kafka-python 3.0.12 then
        # sometimes drops the second assignment: seen as a member idle for good.
        for topic in self.topics:
            consumer.partitions_for_topic(topic)
        consumer.subscribe(topics=list(self.topics), listener=listener)
        return consumer, listener

    def _fresh(self, polled: dict[Any, list[Any]], just_assigned: set[TP]) -> list[Incoming]:
        batch: list[Incoming] = []
        for ktp, records in polled.items():
            tp = (ktp.topic, ktp.partition)
            if tp in just_assigned or tp not in self._positions:
                continue  # fetched from before the seek: it comes again from the right offset
            position = self._positions[tp] or 0
            batch.extend(
                Incoming(r.topic, r.partition, r.offset, r.key, r.value, tuple(r.headers or ()))
                for r in records
                if r.offset >= position
            )
        return batch

    def _write(self, batch: Triaged, positions: dict[TP, int | None]) -> BatchOutcome | None:
        """The writer thread: apply, retrying transient failures; None when told to stop."""
        apply = functools.partial(self._applier.apply_triaged, batch, positions)
        return self._retrying(apply, on_failure=self._writer_failed)  # type: ignore[no-any-return]

    def _writer_failed(self) -> None:
        self._positions_in_doubt.set()
        self._applier.close()

    def _settle(self, consumer: Any, pending: _InFlight | None) -> set[TP]:
        """Wait for the batch in flight; record its outcome; return partitions re-seeked (all of
        them when the writer lost its database connection meanwhile)."""
        reseeked = self._settle_batch(consumer, pending)
        if self._positions_in_doubt.is_set():
            self._positions_in_doubt.clear()
            assigned = set(self._positions)
            log.warning("database connection was lost; every stored position is read again",
                        partitions=len(assigned))  # fmt: skip
            self._seek_to_stored(consumer, assigned)
            reseeked |= assigned
        return reseeked

    def _settle_batch(self, consumer: Any, pending: _InFlight | None) -> set[TP]:
        if pending is None:
            return set()
        try:
            outcome = pending.future.result()
        except PositionConflict as e:
            log.warning("position moved by another member, re-reading", reason=str(e))
            self.stats.conflicts += 1
            self._sizer.failed()
            tps = {r.tp for r in pending.records}
            self._seek_to_stored(consumer, tps)
            return tps
        if outcome is None:  # stopped before it could commit: read again on the next start
            return set()
        self._positions.update(outcome.next_offsets)
        self._sizer.observe(len(pending.records), time.monotonic() - pending.started)
        self.stats.batches += outcome.transactions
        self.stats.records += len(pending.records)
        self.stats.applied += outcome.applied
        self.stats.dead_lettered += outcome.dead_lettered
        self._commit_group(consumer, outcome.next_offsets)
        if self._metrics is not None:
            self._metrics.observe(consumer, outcome, len(pending.records),
                                  time.monotonic() - pending.started)  # fmt: skip
        if outcome.dead_lettered:
            self._dead_letters.notify()
        return set()

    def _seek_to_stored(self, consumer: Any, tps: set[TP]) -> None:
        if not tps:
            return

        def load() -> dict[TP, int]:
            with transaction(self._control.connection()) as cur:
                return store.load_positions(cur, tps)

        stored = self._retrying(load, on_failure=self._control.discard)
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
        """Note ``offsets`` for the group; send what is noted once a second (never waited on).

        On a replicated cluster each group commit is a replicated write: waited for after every
        batch, it held each batch ~0.2 s and was a large share of the brokers' work at 1,000
        events/s. (The partitions the node-loss tests once left unfetched, first blamed on
        these commits, came from kafka-python's metadata refresh ending for good:
        ``casesync.adapters.kafka_python_fixes``.)"""
        self._group_offsets.update(offsets)
        if time.monotonic() - self._group_committed_at >= self._group_commit_every_s:
            self._commit_group_now(consumer, wait=False)

    def _commit_group_now(self, consumer: Any, wait: bool) -> None:
        offsets, self._group_offsets = self._group_offsets, {}
        self._group_committed_at = time.monotonic()
        if not offsets:
            return
        request = {TopicPartition(*tp): OffsetAndMetadata(offset, "", -1)
                   for tp, offset in offsets.items()}  # fmt: skip
        try:
            if wait:
                consumer.commit(request, timeout_ms=5000)
            else:
                consumer.commit_async(request, callback=_group_commit_answered)
        except KafkaError as e:  # lag tools lag a little; the database holds the truth
            log.info("group offsets not committed", error=type(e).__name__)

    def _publish_dead_letters(self) -> None:
        try:
            self._dead_letters.maybe_publish()
        except Exception as e:
            if not is_transient(e):
                raise
            self._control.discard()  # the rows wait for the next round
            log.warning("dead letters not published yet", error=type(e).__name__)

    def _retrying(
        self, operation: Callable[[], Any], on_failure: Callable[[], None] = lambda: None
    ) -> Any:
        """``operation()``, retried with capped backoff while failures are transient;
        ``on_failure`` drops the calling thread's connection. None when told to stop."""
        delay = 0.2
        while not self._stop.is_set():
            try:
                return operation()
            except Exception as e:
                if not is_transient(e):
                    raise
                self.stats.retries += 1
                self._sizer.failed()
                on_failure()
                if isinstance(e, AwaitingManifest):  # the verify stage logs the wait itself
                    self._stop.wait(delay)
                    delay = min(5.0, delay * 2)
                    continue
                detail = (str(e).splitlines() or [""])[0]
                log.warning("transient failure, retrying", error=type(e).__name__,
                            detail=detail, delay_s=round(delay, 2))  # fmt: skip
                self._stop.wait(delay)
                delay = min(5.0, delay * 2)
        return None


def _without(batch: Triaged, partitions: set[TP]) -> Triaged:
    """``batch`` less the records of ``partitions`` (re-seeked: they come again)."""
    kept = [i for i, record in enumerate(batch.records) if record.tp not in partitions]
    return Triaged([batch.records[i] for i in kept], [batch.outcomes[i] for i in kept], batch.rows)


def _group_commit_answered(_: Any, answer: Any) -> None:
    if isinstance(answer, Exception):  # lag tools lag a little; the database holds the truth
        log.info("group offsets not committed", error=type(answer).__name__)
