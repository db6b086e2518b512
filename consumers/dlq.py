"""Publish dead letters to the region's DLQ topic, with their provenance in headers.

The ``dead_letters`` table is the DLQ topic's outbox: a row is written in the transaction that
moves the position past the record, and published after that commit. Steps:
  1. read unpublished rows, oldest first;
  2. send each to the DLQ topic (key: the original key) and wait for the broker's acks;
  3. mark the rows published.
A crash between 2 and 3 publishes those rows again: the DLQ topic is at-least-once, and the
``casesync.dead-letter-id`` header tells copies apart. Nothing is lost while the broker is away:
the rows wait, and consumption goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog
from kafka.errors import KafkaError

from casesync.adapters.postgres import transaction
from consumers.database import Database

log = structlog.get_logger(__name__)

HEADER_PREFIX = "casesync."


class DeadLetterPublisher:
    """Moves unpublished dead letters to one DLQ topic."""

    def __init__(
        self,
        database: Database,
        topic: str,
        producer_factory: Callable[[], Any],
        *,
        retry_every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.topic = topic
        self._database = database
        self._producer_factory = producer_factory
        self._producer: Any = None
        self._retry_every_s = retry_every_s
        self._clock = clock
        self._next_attempt = 0.0
        self._maybe_pending = True  # unknown at start: rows may be left from a crash

    def notify(self) -> None:
        """Say that new dead letters were committed."""
        self._maybe_pending = True

    def publish_pending(self, limit: int = 1000) -> int:
        """Publish up to ``limit`` rows per round until none is left; return how many."""
        total = 0
        while True:
            published = self._publish_round(limit)
            total += published
            if published < limit:
                return total

    def maybe_publish(self) -> int:
        """Publish pending rows unless a recent attempt failed (then wait ``retry_every_s``)."""
        if not self._maybe_pending or self._clock() < self._next_attempt:
            return 0
        try:
            published = self.publish_pending()
        except KafkaError as e:
            self._next_attempt = self._clock() + self._retry_every_s
            log.warning("dead letters not published yet, broker unavailable",
                        error=type(e).__name__, retry_in_s=self._retry_every_s)  # fmt: skip
            return 0
        self._maybe_pending = False
        return published

    def close(self) -> None:
        """Close the producer, if one was made."""
        if self._producer is not None:
            self._producer.close()
            self._producer = None

    def _publish_round(self, limit: int) -> int:
        conn = self._database.connection()
        with transaction(conn) as cur:  # 1
            cur.execute(
                'SELECT id, topic, partition, "offset", record_key, payload, stage, error_class,'
                " reason FROM dead_letters WHERE published_at IS NULL ORDER BY id LIMIT %s",
                (limit,),
            )
            rows = cur.fetchall()
        if not rows:
            return 0
        if self._producer is None:
            self._producer = self._producer_factory()
        futures = []
        for row_id, topic, partition, offset, key, payload, stage, error_class, reason in rows:
            headers = [
                (f"{HEADER_PREFIX}source-topic", topic.encode()),
                (f"{HEADER_PREFIX}source-partition", str(partition).encode()),
                (f"{HEADER_PREFIX}source-offset", str(offset).encode()),
                (f"{HEADER_PREFIX}error-class", error_class.encode()),
                (f"{HEADER_PREFIX}error-reason", reason.encode()),
                (f"{HEADER_PREFIX}error-stage", stage.encode()),
                (f"{HEADER_PREFIX}dead-letter-id", str(row_id).encode()),
            ]
            futures.append(
                self._producer.send(
                    self.topic,
                    key=None if key is None else bytes(key),
                    value=None if payload is None else bytes(payload),
                    headers=headers,
                )
            )  # 2
        self._producer.flush()
        for future in futures:
            future.get(timeout=30)
        with transaction(conn) as cur:  # 3
            cur.execute(
                "UPDATE dead_letters SET published_at = now() WHERE id = ANY(%s)",
                ([row[0] for row in rows],),
            )
        log.info("dead letters published", topic=self.topic, count=len(rows))
        return len(rows)
