"""Kafka edge of the ops commands: a topic's bounds, and its records between two offset maps.

Reads with an unassigned consumer (no group, nothing committed), ``read_committed`` like the
region consumers, so the ends it sees are the ends they see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kafka import TopicPartition
from kafka.errors import KafkaError, KafkaTimeoutError

from casesync.adapters.bounded_build import BoundedBuild
from casesync.adapters.kafka_clients import new_consumer
from casesync.errors import Unreachable
from casesync.ops.errors import UnknownTopic
from casesync.settings import KafkaAccess


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as stored: nothing decoded."""

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]


@dataclass(frozen=True, slots=True)
class Bounds:
    """Each partition's log start and end (the next offset to be written)."""

    start: dict[int, int]
    end: dict[int, int]


class TopicReader:
    """Reads one broker; opens its consumer on first use, close() when done."""

    def __init__(self, kafka: KafkaAccess, timeout_s: float = 10.0) -> None:
        self._access = kafka
        self._bootstrap = kafka.bootstrap
        self._timeout_ms = int(timeout_s * 1000)
        self._consumer: Any = None

    def _kafka(self) -> Any:
        if self._consumer is None:
            build = BoundedBuild(
                lambda: new_consumer(
                    self._access,
                    enable_auto_commit=False,
                    isolation_level="read_committed",
                    request_timeout_ms=max(self._timeout_ms, 5000),
                    bootstrap_timeout_ms=self._timeout_ms,  # a broker away: say so soon
                    client_id="casesync-ops",
                ),
                self._timeout_ms / 1000 + 5,  # a frozen broker can hold the constructor
            )
            try:
                self._consumer = build.get()
            except KafkaTimeoutError as e:
                build.abandon()
                raise Unreachable("Kafka", self._bootstrap, type(e).__name__) from e
            except (KafkaError, OSError, ValueError) as e:
                raise Unreachable("Kafka", self._bootstrap, type(e).__name__) from e
        return self._consumer

    def partitions(self, topic: str) -> list[int]:
        """The topic's partitions; UnknownTopic when the broker has none."""
        try:
            found = self._kafka().partitions_for_topic(topic)
        except KafkaTimeoutError as e:
            raise Unreachable("Kafka", self._bootstrap, "metadata request timed out") from e
        except KafkaError as e:  # a cluster that lost nodes refuses connections to them
            raise Unreachable("Kafka", self._bootstrap, type(e).__name__) from e
        if not found:
            raise UnknownTopic(topic)
        return sorted(found)

    def bounds(self, topic: str, partitions: Sequence[int] | None = None) -> Bounds:
        """Log start and end of each partition (all of the topic's by default)."""
        tps = [TopicPartition(topic, p) for p in partitions or self.partitions(topic)]
        try:
            start = self._kafka().beginning_offsets(tps)
            end = self._kafka().end_offsets(tps)
        except KafkaError as e:
            raise Unreachable("Kafka", self._bootstrap, type(e).__name__) from e
        return Bounds(
            {tp.partition: o for tp, o in start.items()}, {tp.partition: o for tp, o in end.items()}
        )

    def offsets_at(self, topic: str, partitions: Sequence[int], moment: datetime) -> dict[int, int]:
        """Per partition, the first offset at or after ``moment`` (the end when none is)."""
        ms = int(moment.timestamp() * 1000)
        tps = [TopicPartition(topic, p) for p in partitions]
        found = self._kafka().offsets_for_times({tp: ms for tp in tps})
        ends = self._kafka().end_offsets(tps)
        return {tp.partition: ends[tp] if found.get(tp) is None else found[tp].offset for tp in tps}

    def read(
        self,
        topic: str,
        starts: Mapping[int, int],
        ends: Mapping[int, int] | None,
        stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[RawRecord]:
        """Records from ``starts`` up to (not including) ``ends``, each partition in order.

        ``ends=None`` follows the topic until ``stop()`` says so.
        """
        consumer = self._kafka()
        wanted = {
            p: s for p, s in starts.items() if ends is None or s < ends.get(p, 0)
        }  # fmt: skip
        if not wanted:
            return
        tps = {p: TopicPartition(topic, p) for p in wanted}
        consumer.assign(list(tps.values()))
        for p, offset in wanted.items():
            consumer.seek(tps[p], offset)
        open_partitions = set(wanted)
        while open_partitions and not stop():
            polled = consumer.poll(timeout_ms=500)
            for tp, records in polled.items():
                limit = None if ends is None else ends[tp.partition]
                for r in records:
                    if limit is not None and r.offset >= limit:
                        break
                    yield RawRecord(r.partition, r.offset, r.timestamp, r.key, r.value,
                                    tuple(r.headers or ()))  # fmt: skip
            if ends is not None:
                open_partitions = {
                    p for p in open_partitions if consumer.position(tps[p]) < ends[p]
                }

    def close(self) -> None:
        """Close the consumer, if one was opened."""
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
