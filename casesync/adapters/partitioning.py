"""Kafka's default key partitioning, remembered per key.

kafka-python computes murmur2 in pure Python for every record, about a quarter of a send's
cost. A case's events share its key, so the relay asks once per case and reuses the answer;
the result is exactly the default partitioner's (Java-compatible) choice.
"""

from __future__ import annotations

from typing import Any

from kafka.partitioner import DefaultPartitioner

_MAX_KEYS = 200_000  # a day of busy cases; then start afresh rather than grow without bound


class CachedKeyPartitioner(DefaultPartitioner):  # type: ignore[misc]
    def __init__(self) -> None:
        self._cache: dict[tuple[str, bytes, int], int] = {}

    def partition(
        self,
        topic: str,
        key: Any,
        serialized_key: bytes | None,
        value: Any,
        serialized_value: Any,
        cluster: Any,
    ) -> int:
        if serialized_key is None:
            return int(
                super().partition(topic, key, serialized_key, value, serialized_value, cluster)
            )
        partitions = cluster.partitions_for_topic(topic)
        count = len(partitions) if partitions else 0
        cache_key = (topic, serialized_key, count)  # a new partition count re-decides
        found = self._cache.get(cache_key)
        if found is None:
            if len(self._cache) >= _MAX_KEYS:
                self._cache.clear()
            found = int(
                super().partition(topic, key, serialized_key, value, serialized_value, cluster)
            )
            self._cache[cache_key] = found
        return found
