"""The relay: publishes a region's outbox to its partners' inboxes, in order, nothing lost.

Steps of one cycle (``Relay._cycle``):
  1. lead: hold the region's publisher lock, or stand by;
  2. fetch unpublished rows above the highest id sent so far and, in the same snapshot, the ids
     of unpublished rows below it: those neither in flight nor being marked are stragglers
     (rows whose transaction committed late). Rows of one case are inserted in version order,
     each after the previous committed, so sending stragglers first keeps every case in order.
     With nothing to fetch, the leader waits on its connection for the outbox trigger's
     notification (or a quarter second) instead of polling; after a fetch that emptied the
     outbox it fetches again only once a notification has come (or that quarter second);
  3. sign the batch (one signature per hash tree of up to 256 of its records for one inbox, each
     carrying its path: ``casesync.trust``), then send each row as one record to the inbox of each
     of its target regions with the idempotent producer (acks=all, key = case id, so each case keeps
     its order in every inbox); rows for an inbox the cluster lacks stay in the outbox (with every
     later row of their cases) and are fetched again as stragglers; a row with no target is sent
     nowhere. Up to ``max_batches_in_flight`` batches are on the wire at once;
  4. when a batch is fully acknowledged (every record of every row), hand it to the marker,
     which marks its rows published in the background — never before the acknowledgement.
A crash between 3 and 4 republishes those rows, to every inbox again: the only source of
duplicates, and consumers drop them by event id and version.

Outages of any length: a send that fails, a producer that cannot bootstrap, or acknowledgements
that stop for ``wedged_after_s`` while records wait, discard the producer (its sender thread
stopped, never waited on: kafka-python's idempotent producer can wedge for good once a batch
expires) and resend from the lowest unpublished row with a new one. The outage is logged when it
starts, every ``remind_every_s`` while it lasts and when it ends (``producers.outage``), and
reported in the region's database for ``ops status``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg2
import structlog
from kafka.errors import KafkaConfigurationError, KafkaError, TopicAuthorizationFailedError

from casesync.adapters.bounded_build import BoundedBuild
from casesync.adapters.postgres import Connection, is_retriable
from casesync.contract.schemas import RegisteredSchema
from casesync.errors import ConfigError, Unreachable
from casesync.metrics import Metrics
from casesync.trust.tree import LeafFields
from producers.encoding import EncodeResult
from producers.errors import CannotSign, ProducerWedged
from producers.marker import Marker
from producers.outage import Notice, OutageClock
from producers.outbox_store import OutboxRow, OutboxStore
from producers.prefetch import Prefetcher
from producers.routing import Inboxes
from producers.signing import RelaySigner

log = structlog.get_logger(__name__)


# A record to send: target region, key, value, headers, and when signing the fields of the leaf
# its signature covers.
_Record = tuple[str, bytes, memoryview, list[tuple[str, bytes]], LeafFields | None]


@dataclass(frozen=True, slots=True)
class RelayConfig:
    batch_size: int = 5000
    max_batches_in_flight: int = 4
    idle_wait_s: float = 0.25  # longest wait for a commit notification before looking anyway
    standby_poll_s: float = 1.0
    retention: timedelta = timedelta(days=7)
    prune_every_s: float = 60.0
    gauges_every_s: float = 5.0
    backoff_max_s: float = 5.0
    # Records waiting this long without an acknowledgement: the broker counts as away.
    stall_after_s: float = 10.0
    # ... and this long: the producer is replaced. A producer built while the broker was frozen
    # was seen to stay silent for good after it came back (and one whose batch expired never
    # recovers), so waiting for the delivery timeout would hold a recovered broker's traffic for
    # minutes; a healthy broker acknowledges within a second, a leader election within ~12 s.
    wedged_after_s: float = 20.0
    remind_every_s: float = 60.0  # how often a lasting outage is logged again
    pause_after_failure_s: float = 1.0
    build_timeout_s: float = 15.0  # longest wait for a new producer to bootstrap


@dataclass
class RelayStats:
    published: int = 0
    batches: int = 0
    kafka_failures: int = 0
    database_failures: int = 0
    leading: bool = False
    untargeted: int = 0  # rows marked published with no record: their event has no target
    held: int = 0  # rows the last send kept in the outbox: an inbox they go to is missing


@dataclass
class _Batch:
    rows: list[OutboxRow]
    futures: list[Any] = field(default_factory=list)  # the records of all rows, in send order
    ends: list[int] = field(default_factory=list)  # rows[i]'s records: futures[ends[i-1]:ends[i]]
    finished: int = 0  # futures[:finished] are done: a send never becomes undone

    def done(self) -> bool:
        # Resumes where the last look stopped: checked every few ms, a batch of thousands
        # is walked once in all, not once per look.
        futures, i = self.futures, self.finished
        while i < len(futures) and futures[i].is_done:
            i += 1
        self.finished = i
        return i == len(futures)

    def wait(self, timeout: float) -> None:
        """Block up to ``timeout`` for the first unfinished send of this batch."""
        if not self.done():
            # The record batch's latch: no spinning.
            self.futures[self.finished]._produce_future.wait(timeout)

    def succeeded_ids(self) -> list[int]:
        """Rows every record of which the broker acknowledged (a row sent nowhere has none)."""
        ids, start, futures = [], 0, self.futures
        # Every row's records are built (and signed) before the first is sent: a send that
        # failed midway left the later rows' records unsent, and those rows are not counted.
        for row, end in zip(self.rows, self.ends, strict=False):
            if end > len(futures):
                break
            if all(futures[k].succeeded() for k in range(start, end)):
                ids.append(row[0])
            start = end
        return ids

    def all_succeeded(self) -> bool:
        sent_all = len(self.ends) == len(self.rows) and (self.ends or [0])[-1] == len(self.futures)
        return sent_all and all(f.succeeded() for f in self.futures)


class Relay:
    """Publishes one region's outbox. ``run`` blocks until stopped or idle long enough."""

    def __init__(
        self,
        region: str,
        store: OutboxStore,
        producer_factory: Callable[[], Any],
        schemas: dict[bytes, RegisteredSchema],
        publish_schema: Callable[[RegisteredSchema], None],
        inboxes: Inboxes,
        config: RelayConfig | None = None,
        on_published: Callable[[int], None] | None = None,
        metrics: Metrics | None = None,
        encode_pending: Callable[[Connection], EncodeResult] | None = None,
        signer: RelaySigner | None = None,
    ) -> None:
        self.region = region
        self._signer = signer  # None: records go unsigned (CASESYNC_SIGNING=off)
        self._inboxes = inboxes
        self.config = config or RelayConfig()
        self.stats = RelayStats()
        self._store = store
        self._prefetcher = Prefetcher(store)
        self._marker: Marker | None = None
        self._producer_factory = producer_factory
        # A frozen secured broker can hold kafka-python's constructor for good: bounded.
        self._producer_build = BoundedBuild(producer_factory, self.config.build_timeout_s)
        self._producer: Any = None
        self._schemas = schemas
        self._publish_schema = publish_schema
        # The event_type and fingerprint headers, built once per distinct value.
        self._type_headers: dict[str, tuple[str, bytes]] = {}
        self._schema_headers: dict[bytes, tuple[str, bytes]] = {}
        self._target_headers: dict[str, tuple[str, bytes]] = {}
        self._held_for: set[str] = set()  # target regions whose missing inbox holds rows
        self._held_reported: tuple[int, str] | None = None  # (rows, reason) last recorded
        self._told_untargeted = False
        self._in_flight: deque[_Batch] = deque()
        self._high = 0  # highest outbox id sent in this term of leadership
        self._on_published = on_published or (lambda n: None)
        # Rows recorded through SQL carry JSON, not Avro: encoded in place before each read.
        self._encode_pending = encode_pending
        self._metrics = metrics
        self._last_prune = self._last_gauges = 0.0
        # Whether the last read emptied the outbox, and when it was: see _worth_reading.
        self._drained, self._last_read = False, 0.0
        self._outage = OutageClock(self.config.remind_every_s)
        self._acked_at = 0.0  # the last sign of progress from the broker while records wait

    def run(
        self, stop: threading.Event | None = None, until_idle: float | None = None
    ) -> RelayStats:
        """Relay until ``stop`` is set, or until nothing was published for ``until_idle`` s."""
        stop = stop or threading.Event()
        idle_since = time.monotonic()
        backoff = 0.2
        try:
            while not stop.is_set():
                try:
                    if self._cycle():
                        idle_since, backoff = time.monotonic(), 0.2
                        continue
                    backoff = 0.2
                    if until_idle is not None and time.monotonic() - idle_since >= until_idle:
                        break
                    # Nothing to do: the leader sleeps until a commit adds rows (the outbox
                    # trigger notifies it), so an idle region costs its database nothing.
                    if self.stats.leading:
                        self._store.wait_for_rows(self.config.idle_wait_s)
                    else:
                        stop.wait(self.config.standby_poll_s)
                except (psycopg2.Error, Unreachable) as e:
                    if isinstance(e, psycopg2.Error) and not is_retriable(e):
                        raise
                    self.stats.database_failures += 1
                    log.warning("database unavailable; relay retries", region=self.region,
                                error=type(e).__name__, retry_in_s=backoff)  # fmt: skip
                    self._step_down()
                    stop.wait(backoff)
                    backoff = min(self.config.backoff_max_s, backoff * 2)
        finally:
            self._shutdown()
        return self.stats

    def _cycle(self) -> bool:
        # 1. lead, or stand by
        if not self.stats.leading:
            if not self._store.try_lead():
                return False
            self.stats.leading, self._high, self._drained = True, 0, False
            self._marker = Marker(self._store.clone())
            log.info("relay leads its region", region=self.region)
            self._warm_up()
            self._report_health()
            self._held_reported = None  # a new term: record what this one finds
            self._report_held(0, set())
        assert self._marker is not None
        self._marker.raise_error()
        self._maybe_prune()
        self._settle()
        if len(self._in_flight) < self.config.max_batches_in_flight and self._worth_reading():
            rows = self._fetch()  # 2.
            if rows and self._send(_Batch(rows)):  # 3.
                return True
        if self._in_flight:
            # The pipeline is full, or nothing is new: wait on the broker, not the database.
            self._in_flight[0].wait(0.005)
            self._settle()
            self._watch_acknowledgements()
            return True
        return False

    def _watch_acknowledgements(self) -> None:
        """Records wait and the broker says nothing: an outage, and after long enough a wedged
        producer (kafka-python raises nothing while a broker is away)."""
        if not self._in_flight:
            return
        silent = time.monotonic() - self._acked_at
        if silent >= self.config.wedged_after_s:
            self._kafka_failed(ProducerWedged(f"producer silent for {silent:.0f} s; rebuilt"))
        elif silent >= self.config.stall_after_s:
            self._outage_sign("the broker acknowledges nothing while records wait")

    def _worth_reading(self) -> bool:
        # After a read that emptied the outbox, new rows announce themselves (the outbox
        # trigger notifies at commit): read again only then, or after idle_wait_s to be safe.
        # Without this, a relay waiting for acks read the database every 5 ms for nothing.
        return (
            not self._drained
            or self._store.rows_announced()
            or time.monotonic() - self._last_read >= self.config.idle_wait_s
        )

    def _fetch(self) -> list[OutboxRow]:
        if self._encode_pending is not None:
            encoded = self._encode_pending(self._store.conn)
            if encoded.refused:
                log.warning("changes recorded through SQL refused at encoding; kept unpublished,"
                            " see casesync_api.refused_changes",
                            region=self.region, refused=encoded.refused)  # fmt: skip
            if encoded.encoded:
                self._prefetcher.discard()  # a read ahead may have stopped at those rows
        ahead = self._prefetcher.take(self._high)
        if ahead is not None:
            fresh, below, known = ahead.fresh, ahead.below, ahead.known
        else:
            # Known before the read: a row marked published after the read's snapshot was
            # taken is below it, yet no straggler.
            known = self._known()
            fresh, below = self._store.fetch(self._high, self.config.batch_size)
        stragglers = [i for i in below if i not in known]
        rows = self._store.fetch_ids(stragglers) if stragglers else []
        rows.extend(fresh)
        if fresh:
            self._high = fresh[-1][0]
        self._drained, self._last_read = len(fresh) < self.config.batch_size, time.monotonic()
        if not self._drained:  # a backlog: read on while these are sent
            self._prefetcher.start(
                self._high, self.config.batch_size, self._known() | {row[0] for row in rows}
            )
        return rows

    def _known(self) -> set[int]:
        """Ids in flight or being marked: unpublished, yet not stragglers (rows whose
        transaction committed after a later row was fetched)."""
        assert self._marker is not None
        known = self._marker.pending()
        known.update(row[0] for batch in self._in_flight for row in batch.rows)
        return known

    def _send(self, batch: _Batch) -> bool:
        """Send the batch's routable rows; False when every row of it waits for an inbox (or
        for a key that may sign)."""
        batch.rows = self._routable(batch.rows)
        if not batch.rows:
            return False
        records = self._records(batch)
        if self._signer is not None and not self._sign(records):
            return False
        futures, inbox = batch.futures, self._inboxes.topic
        if not self._in_flight:
            self._acked_at = time.monotonic()  # the wait for this batch starts now
        self._in_flight.append(batch)
        try:
            # A new producer bootstraps here: with the broker down that fails like a send.
            send = self._producer_or_new().send
            for target, key, payload, headers, _ in records:
                futures.append(send(inbox(target), key=key, value=payload, headers=headers))
        except KafkaConfigurationError as e:  # no outage: the settings are wrong
            raise ConfigError(f"Kafka producer settings refused: {e}") from e
        except KafkaError as e:
            self._kafka_failed(e)
        return True

    def _records(self, batch: _Batch) -> list[_Record]:
        """One record per row and target, with its routing headers and, when signing, the
        leaf its signature covers; ``batch.ends`` says which records are each row's."""
        region = ("source_region", self.region.encode())
        types, schemas = self._type_headers, self._schema_headers
        targets_h, ends = self._target_headers, batch.ends
        signing = self._signer is not None
        records: list[_Record] = []
        # The hottest loop of the relay: dict lookups inline, no call per header.
        for _, case_id, event_id, event_type, payload, targets in batch.rows:
            fingerprint = payload[2:10].tobytes()  # a memoryview never matches a bytes key
            key = case_id.encode()
            event_id_h = ("event_id", event_id.encode())
            type_h = types.get(event_type) or self._type_header(event_type)
            common = (
                event_id_h, type_h, schemas.get(fingerprint) or self._schema_header(fingerprint),
                region,
            )  # fmt: skip
            for target in targets:
                target_h = targets_h.get(target) or self._target_header(target)
                # The leaf's fields, hashed as they are (the payload a memoryview, no copy).
                leaf: LeafFields | None = (
                    (region[1], target_h[1], key, payload, fingerprint, event_id_h[1], type_h[1])
                    if signing else None
                )  # fmt: skip
                records.append((target, key, payload, [*common, target_h], leaf))
            ends.append(len(records))
        return records

    def _sign(self, records: list[_Record]) -> bool:
        """Add the batch's signature headers to its records; False (rows kept in the outbox,
        fetched again) when no key may sign now."""
        assert self._signer is not None
        # One inbox's records under trees of their own: a region reads only sizes and sibling
        # hashes of records addressed to it, never how many went to other regions.
        by_inbox: dict[str, list[_Record]] = {}
        for record in records:
            by_inbox.setdefault(record[0], []).append(record)
        try:
            signed = [
                (mates, self._signer.sign([r[4] for r in mates]))  # type: ignore[misc]
                for mates in by_inbox.values()
            ]
        except CannotSign as e:
            self._high, self._drained = 0, False  # fetch again from the lowest unpublished row
            self._prefetcher.discard()
            self._outage_sign(f"cannot sign: {e}")
            time.sleep(self.config.pause_after_failure_s)
            return False
        for mates, signatures in signed:
            for record, signature in zip(mates, signatures, strict=True):
                record[3].append(signature)
        return True

    def _routable(self, rows: list[OutboxRow]) -> list[OutboxRow]:
        """The rows that may go now: not those bound for a missing inbox, nor any later row of
        their cases (a case's rows all share its targets; this keeps its order regardless)."""
        wanted: set[str] = set()
        untargeted = 0
        for row in rows:
            if row[5]:
                wanted.update(row[5])
            else:
                untargeted += 1
        if untargeted:
            self.stats.untargeted += untargeted
            if not self._told_untargeted:
                self._told_untargeted = True
                log.info("outbox rows without a target region are marked published unsent;"
                         " further ones are only counted",
                         region=self.region, rows=untargeted)  # fmt: skip
        missing = self._inboxes.missing(wanted)
        routable = rows
        if missing:
            held_cases: set[str] = set()
            routable = []
            for row in rows:
                if row[1] in held_cases or not missing.isdisjoint(row[5]):
                    held_cases.add(row[1])
                else:
                    routable.append(row)
        self.stats.held = len(rows) - len(routable)
        self._tell_held(wanted, missing)
        return routable

    def _tell_held(self, wanted: set[str], missing: set[str]) -> None:
        """One log line when an inbox is found missing, one when it is there again."""
        appeared = (self._held_for & wanted) - missing
        for target in sorted(missing - self._held_for):
            log.warning("inbox missing or not writable: rows for its region stay in the outbox",
                        region=self.region, target=target, inbox=self._inboxes.topic(target),
                        principal=self._inboxes.principal, held_rows=self.stats.held)  # fmt: skip
        for target in sorted(appeared):
            log.info("inbox found: its held rows go out in order", region=self.region,
                     target=target, inbox=self._inboxes.topic(target))  # fmt: skip
        self._held_for = (self._held_for - appeared) | missing
        self._report_held(self.stats.held, missing)

    def _report_held(self, rows: int, missing: set[str]) -> None:
        """Tell ``ops status`` and the metric how many rows wait for an inbox and why; only
        when that changed (at most once per fetched batch, never per record)."""
        held = (rows, self._inboxes.why_missing(missing) if missing else "")
        if held == self._held_reported:
            return
        if self._metrics is not None:
            self._metrics.relay_held.labels(self.region).set(rows)
        try:
            self._store.report_held(rows=held[0], reason=held[1])
        except (psycopg2.Error, Unreachable) as e:
            log.warning("relay could not record its held rows", region=self.region,
                        error=type(e).__name__)  # fmt: skip
            return
        self._held_reported = held

    def _settle(self) -> None:
        """4. hand fully acknowledged batches to the marker, oldest first."""
        assert self._marker is not None
        if self._in_flight:
            head = self._in_flight[0]
            finished = head.finished
            if head.done() or head.finished > finished:
                self._acked_at = time.monotonic()
        while self._in_flight and self._in_flight[0].done():
            batch = self._in_flight[0]
            if not batch.all_succeeded():
                self._kafka_failed(next(f.exception for f in batch.futures if f.failed()))
                return
            self._marker.mark([row[0] for row in batch.rows])
            self._in_flight.popleft()
            self.stats.published += len(batch.rows)
            self.stats.batches += 1
            self._on_published(len(batch.rows))
            if self._metrics is not None:
                self._metrics.published.labels(self.region).inc(len(batch.rows))
                self._metrics.relay_batch.labels(self.region).observe(len(batch.rows))
            if self._outage.ongoing:
                self._outage_over()

    def _kafka_failed(self, error: BaseException | None) -> None:
        """Drop the producer; keep what the broker did acknowledge; resend the rest in order."""
        self.stats.kafka_failures += 1
        if self._metrics is not None:
            self._metrics.relay_broker_failures.labels(self.region).inc()
        self._discard_producer()
        acknowledged = [i for batch in self._in_flight for i in batch.succeeded_ids()]
        self._in_flight.clear()
        if acknowledged and self._marker is not None:
            self._marker.mark(acknowledged)
        self._high, self._drained = 0, False  # fetch again from the lowest unpublished row
        self._prefetcher.discard()
        if isinstance(error, TopicAuthorizationFailedError):
            # No outage: this principal may no longer write an inbox (an agreement ended).
            # Routing asks the cluster again, which now hides that inbox from it, so the rows
            # for it are held in the outbox (and reported) as for a missing inbox.
            log.warning("a send was refused for want of authorization; inboxes are looked up "
                        "again", region=self.region, principal=self._inboxes.principal)  # fmt: skip
            self._inboxes.recheck()
        else:
            self._outage_sign(_describe(error))
        time.sleep(self.config.pause_after_failure_s)

    def _discard_producer(self) -> None:
        """Stop the producer's sender thread and let it go, without waiting on the broker.

        kafka-python's ``close()`` first flushes, which never ends (no timeout) or raises (a
        timeout) while the broker is away; with an idempotent producer wedged after an expired
        batch it never recovers at all. Force-closing the sender fails what it still holds, so
        the close that follows has nothing to wait for. Unacknowledged rows are resent.
        """
        producer, self._producer = self._producer, None
        if producer is None:
            return
        sender = getattr(producer, "_sender", None)
        if sender is not None:
            sender.force_close()
            sender.join(10)
        try:
            producer.close(timeout=0)
        except KafkaError as e:
            log.debug("discarded producer did not close cleanly", error=type(e).__name__)

    def _outage_sign(self, reason: str) -> None:
        """A sign the broker is away: log it when the outage starts and every reminder."""
        now = time.monotonic()
        notice = self._outage.failed(now, reason)
        if notice is None:
            return
        lasted = self._outage.lasted(now)
        if self._metrics is not None:
            self._metrics.relay_outage.labels(self.region).set(lasted)
        unpublished = self._unpublished()
        if notice is Notice.STARTED:
            log.warning("relay cannot publish; outbox rows wait",
                        region=self.region, reason=reason, unpublished=unpublished)  # fmt: skip
        else:
            log.warning("relay still cannot publish", region=self.region, reason=reason,
                        outage_s=round(lasted), unpublished=unpublished)  # fmt: skip
        self._report_health()

    def _outage_over(self) -> None:
        ended = self._outage.published(time.monotonic())
        if ended is None:
            return
        if self._metrics is not None:
            self._metrics.relay_outage.labels(self.region).set(0)
        log.info("relay publishes again; broker outage over", region=self.region,
                 outage_s=round(ended.lasted_s, 1), unpublished=self._unpublished())  # fmt: skip
        self._report_health()

    def _unpublished(self) -> int | None:
        """The outbox backlog for a log line; None when the database cannot say now."""
        try:
            return self._store.backlog().unpublished
        except (psycopg2.Error, Unreachable):
            return None

    def _report_health(self) -> None:
        """Tell ``ops status`` (through the region's database) whether the relay publishes."""
        try:
            self._store.report_health(
                publishing=not self._outage.ongoing,
                reason=self._outage.reason,
                lasted_s=self._outage.lasted(time.monotonic()),
            )
        except (psycopg2.Error, Unreachable) as e:
            log.warning("relay could not record its health", region=self.region,
                        error=type(e).__name__)  # fmt: skip

    def _step_down(self) -> None:
        """After a lost database connection: finish with the broker, then lead afresh."""
        if self._producer is not None:
            try:
                self._producer.flush(timeout=30)
            except KafkaError as e:  # the broker is away too: what it did not confirm is resent
                log.warning("broker unavailable while stepping down", region=self.region,
                            error=type(e).__name__)  # fmt: skip
                self._discard_producer()
        acknowledged = [i for batch in self._in_flight for i in batch.succeeded_ids()]
        self._in_flight.clear()
        if self._marker is not None:
            try:
                if acknowledged:
                    self._marker.mark(acknowledged)
                self._marker.drain()
            except (psycopg2.Error, Unreachable):
                pass  # unmarked rows are sent again after recovery: duplicates, not losses
            self._marker.close()
            self._marker = None
        self._prefetcher.close()
        self._store.close()  # the lock went (or goes now) with the connection
        self.stats.leading = False

    def _target_header(self, target: str) -> tuple[str, bytes]:
        header = self._target_headers[target] = ("target_region", target.encode())
        return header

    def _type_header(self, event_type: str) -> tuple[str, bytes]:
        header = self._type_headers[event_type] = ("event_type", event_type.encode())
        return header

    def _schema_header(self, fingerprint: bytes) -> tuple[str, bytes]:
        self._ensure_schema(fingerprint)  # a new writer schema: publish it before its events
        header = self._schema_headers[fingerprint] = ("fingerprint", fingerprint.hex().encode())
        return header

    def _ensure_schema(self, fingerprint: bytes) -> None:
        schema = self._schemas.get(fingerprint)
        if schema is None:
            log.warning("outbox row written with a schema this relay does not bundle",
                        region=self.region, fingerprint=fingerprint.hex())  # fmt: skip
        else:
            self._publish_schema(schema)

    def _warm_up(self) -> None:
        """Connect before rows come: build the producer and publish the newest writer schema
        now. The first batch used to wait for both, half a second on a secured broker. A broker
        that does not answer is a broker failure, as at a send: counted, and the outage told."""
        try:
            self._producer_or_new()
            if self._schemas:
                newest = next(reversed(self._schemas))
                if newest not in self._schema_headers:
                    self._schema_header(newest)
        except KafkaError as e:
            self._kafka_failed(e)

    def _producer_or_new(self) -> Any:
        if self._producer is None:
            # Raises KafkaTimeoutError (a send failure) when the broker does not answer.
            self._producer = self._producer_build.get()
        return self._producer

    def _maybe_prune(self) -> None:
        now = time.monotonic()
        if self._metrics is not None and now - self._last_gauges >= self.config.gauges_every_s:
            self._last_gauges = now
            backlog = self._store.backlog()
            self._metrics.outbox_backlog.labels(self.region).set(backlog.unpublished)
            self._metrics.outbox_oldest_age.labels(self.region).set(backlog.oldest_age_s or 0.0)
            self._metrics.relay_outage.labels(self.region).set(self._outage.lasted(now))
        if now - self._last_prune >= self.config.prune_every_s:
            self._last_prune = now
            pruned = self._store.prune(self.config.retention)
            if pruned:
                log.info("published outbox rows pruned", region=self.region, rows=pruned)

    def _shutdown(self) -> None:
        try:
            if self._producer is not None:
                self._producer.flush(timeout=30)
                if self._marker is not None:
                    self._settle()
                    self._marker.drain()
        except (psycopg2.Error, KafkaError, Unreachable) as e:
            log.warning("relay stopped with batches unconfirmed; they will be resent",
                        region=self.region, error=type(e).__name__)  # fmt: skip
            self._discard_producer()
        finally:
            if self._producer is not None:
                try:
                    self._producer.close(timeout=5)
                except KafkaError:
                    self._discard_producer()
                self._producer = None
            if self._marker is not None:
                self._marker.close()
                self._marker = None
            self._prefetcher.close()
            self._store.close()


def _describe(error: BaseException | None) -> str:
    """A broker failure in one short line (kafka-python's messages can run long)."""
    if error is None:
        return "send failed"
    name, text = type(error).__name__, str(error).strip()
    if not text or text == name:
        return name
    return text[:200] if text.startswith(name) else f"{name}: {text[:160]}"
