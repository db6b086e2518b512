"""Try to read a topic as some principal, to show whether the broker lets it.

The probe assigns partition 0 and polls rather than subscribing: kafka-python 3.0.12 only logs a
refused subscription and polls nothing, while a refused assigned partition raises from ``poll``.
It joins no group and commits nothing, so it moves no one's position.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from kafka import TopicPartition
from kafka.errors import AuthorizationError

from casesync.adapters.kafka_clients import new_consumer
from casesync.settings import KafkaAccess


@dataclass(frozen=True, slots=True)
class ReadProbe:
    """What a read attempt gave: the broker's refusal, or how many records it let through."""

    topic: str
    refusal: str | None  # the error's name without "Error", e.g. "TopicAuthorizationFailed"
    records: int = 0

    @property
    def refused(self) -> bool:
        return self.refusal is not None


def probe_read(access: KafkaAccess, topic: str, within_s: float = 10.0) -> ReadProbe:
    """Poll partition 0 of ``topic`` from its start, as ``access``'s principal, until a record
    or a refusal comes, or ``within_s`` passes."""
    consumer = new_consumer(access, group_id=None, enable_auto_commit=False,
                            auto_offset_reset="earliest")  # fmt: skip
    try:
        consumer.assign([TopicPartition(topic, 0)])
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            records = sum(len(batch) for batch in consumer.poll(timeout_ms=500).values())
            if records:
                return ReadProbe(topic, None, records)
        return ReadProbe(topic, None)
    except AuthorizationError as e:
        return ReadProbe(topic, type(e).__name__.removesuffix("Error"))
    finally:
        consumer.close()
