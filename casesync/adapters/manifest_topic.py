"""The manifest log: a compacted Kafka topic of signed federation manifests, one key.

Every manifest is written under the same key, so compaction keeps the newest; a reader takes
every document still in the log and lets ``ManifestHolder`` choose (the newest valid one wins,
an older or badly signed one is refused). Only the admin principal may write it.
"""

from __future__ import annotations

from kafka import TopicPartition

from casesync.adapters.kafka_clients import new_consumer, new_producer
from casesync.settings import KafkaAccess

MANIFEST_KEY = b"manifest"


class KafkaManifestLog:
    """Reads and writes the manifest topic; no network I/O until used."""

    def __init__(self, kafka: KafkaAccess, topic: str, timeout_s: float = 10.0) -> None:
        self._kafka = kafka
        self._topic = topic
        self._timeout_ms = int(timeout_s * 1000)

    def publish(self, document: bytes) -> None:
        """Write a signed manifest document and wait for the broker's acknowledgement."""
        producer = new_producer(self._kafka, acks="all")
        try:
            producer.send(self._topic, key=MANIFEST_KEY, value=document).get(
                timeout=self._timeout_ms / 1000
            )
        finally:
            producer.close()

    def read_all(self) -> list[bytes]:
        """Every manifest document in the log, oldest first (none when the topic is absent)."""
        consumer = new_consumer(
            self._kafka, enable_auto_commit=False, request_timeout_ms=max(self._timeout_ms, 5000)
        )
        found: list[bytes] = []
        try:
            partitions = [
                TopicPartition(self._topic, p)
                for p in consumer.partitions_for_topic(self._topic) or ()
            ]
            if not partitions:
                return found
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            end = consumer.end_offsets(partitions)
            while any(consumer.position(tp) < end[tp] for tp in partitions):
                for records in consumer.poll(timeout_ms=1000).values():
                    found.extend(r.value for r in records if r.value is not None)
        finally:
            consumer.close()
        return found
