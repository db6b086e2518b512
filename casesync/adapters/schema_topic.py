"""The shared schema log: a compacted Kafka topic keyed by writer-schema fingerprint.

Implements ``casesync.contract.store.RemoteSchemaSource``. Regions upgrade in any order: a producer
publishes its writer schema before the first event that uses it; a consumer that meets an unknown
fingerprint reads the topic to its end once and keeps what it found.
"""

from __future__ import annotations

import threading

from kafka import TopicPartition

from casesync.adapters.kafka_clients import new_consumer, new_producer
from casesync.adapters.topics import TopicNames
from casesync.settings import KafkaAccess


class KafkaSchemaSource:
    """Reads and writes ``casesync.schemas``; no network I/O until first used."""

    def __init__(
        self, kafka: KafkaAccess, topic: str = TopicNames().schemas, timeout_s: float = 10.0
    ) -> None:
        self._kafka = kafka
        self._topic = topic
        self._timeout_ms = int(timeout_s * 1000)
        self._seen: dict[str, str] = {}
        self._lock = threading.Lock()

    def publish(self, fingerprint_hex: str, schema_json: str) -> None:
        """Write the schema under its fingerprint and wait for the broker's acknowledgement."""
        producer = new_producer(self._kafka, acks="all")
        try:
            producer.send(
                self._topic, key=fingerprint_hex.encode(), value=schema_json.encode()
            ).get(timeout=self._timeout_ms / 1000)
        finally:
            producer.close()
        with self._lock:
            self._seen[fingerprint_hex] = schema_json

    def fetch(self, fingerprint_hex: str) -> str | None:
        """The schema under this fingerprint: read the whole (compacted, small) topic once."""
        with self._lock:
            if fingerprint_hex in self._seen:
                return self._seen[fingerprint_hex]
            self._seen.update(self._read_all())
            return self._seen.get(fingerprint_hex)

    def _read_all(self) -> dict[str, str]:
        consumer = new_consumer(
            self._kafka,
            enable_auto_commit=False,
            request_timeout_ms=max(self._timeout_ms, 5000),
        )
        found: dict[str, str] = {}
        try:
            partitions = [
                TopicPartition(self._topic, p)
                for p in consumer.partitions_for_topic(self._topic) or ()
            ]
            if not partitions:
                return found  # no schema log yet: nothing was ever published to it
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            end = consumer.end_offsets(partitions)
            while any(consumer.position(tp) < end[tp] for tp in partitions):
                for records in consumer.poll(timeout_ms=1000).values():
                    for record in records:
                        if record.key is not None and record.value is not None:
                            found[record.key.decode()] = record.value.decode()
        finally:
            consumer.close()
        return found
