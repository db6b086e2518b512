"""The relay's partitioner chooses exactly what kafka-python's (and Java's) default would."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from kafka.partitioner import DefaultPartitioner
from kafka.partitioner.default import murmur2 as library_murmur2

from casesync.adapters.partitioning import CachedKeyPartitioner, murmur2


class _Cluster:
    """The two questions a partitioner asks of the producer's metadata."""

    def __init__(self, partitions: set[int]) -> None:
        self._partitions = partitions

    def topics(self) -> set[str]:
        return {"events"}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return self._partitions

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return self._partitions


@given(st.binary(max_size=80))
def test_murmur2_equals_the_librarys(data: bytes) -> None:
    """Word-at-a-time hashing gives the byte-at-a-time result for every length."""
    assert murmur2(data) == library_murmur2(data)


def test_java_reference_values() -> None:
    """Values the Java client's Utils.murmur2 gives (from Kafka's own unit tests)."""
    assert murmur2(b"21") == -973932308 & 0xFFFFFFFF
    assert murmur2(b"foobar") == -790332482 & 0xFFFFFFFF
    assert murmur2(b"a-little-bit-long-string") == -985981536 & 0xFFFFFFFF


@given(st.binary(min_size=1, max_size=40), st.integers(min_value=1, max_value=64))
def test_partition_equals_the_default_partitioners(key: bytes, count: int) -> None:
    """Same partition as the default, also when asked again (from the cache)."""
    cluster: Any = _Cluster(set(range(count)))
    expected = DefaultPartitioner().partition("events", key, key, None, None, cluster)
    cached = CachedKeyPartitioner()
    assert cached.partition("events", key, key, None, None, cluster) == expected
    assert cached.partition("events", key, key, None, None, cluster) == expected
