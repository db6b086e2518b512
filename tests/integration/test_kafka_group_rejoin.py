"""A consumer that rejoins its group because its metadata changed gets its new assignment even when
the poll that began the join returned before the group answered (kafka-python 3.0.12 drops such a
join and leaves the member with nothing assigned, without heartbeats, for good)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from kafka.admin import NewPartitions

from casesync.adapters.kafka_clients import new_admin, new_consumer
from casesync.adapters.topics import ensure_topics
from casesync.settings import KafkaAccess, TopicSettings
from consumers.rebalance import AssignmentNotes
from consumers.records import TopicPartition as TP

pytestmark = pytest.mark.integration


def _hold(consumer: object, notes: AssignmentNotes, poll_ms: int, want: int, within_s: float,
          held: set[TP]) -> set[TP]:  # fmt: skip
    """Poll (``poll_ms`` each) until the member holds ``want`` partitions after a settled
    assignment; the partitions it holds then. Fails after ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        consumer.poll(timeout_ms=poll_ms)  # type: ignore[attr-defined]
        assigned, revoked = notes.take()
        held = (held - revoked) | assigned
        if notes.settled and len(held) == want:
            return held
    raise AssertionError(f"holds {sorted(held)} after {within_s:.0f} s, not {want} partitions")


def test_a_member_whose_topic_grew_rejoins_and_holds_every_partition(
    casesync_kafka: KafkaAccess, unique_name: Callable[[str], str]
) -> None:
    """The topic gains a partition; the member revokes its partition in a 1 ms poll that returns
    with the join in flight, the join ends meanwhile, and later polls still bring the new
    assignment: both partitions within 30 s."""
    topic = unique_name("t.rejoin")
    ensure_topics(casesync_kafka, TopicSettings(partitions=1), [topic])
    notes = AssignmentNotes()
    consumer = new_consumer(
        casesync_kafka, group_id=unique_name("g.rejoin"), enable_auto_commit=False,
        metadata_max_age_ms=500,  # the grown topic is seen within half a second
    )  # fmt: skip
    consumer.subscribe(topics=[topic], listener=notes)
    admin = new_admin(casesync_kafka)
    try:
        held = _hold(consumer, notes, poll_ms=200, want=1, within_s=30, held=set())
        admin.create_partitions({topic: NewPartitions(total_count=2)})
        deadline, revoked = time.monotonic() + 30, False
        while not revoked:  # polls of 1 ms until one begins the join: its partition revoked
            assert time.monotonic() < deadline, "the member never noticed the grown topic"
            consumer.poll(timeout_ms=1)
            assigned, taken = notes.take()
            held, revoked = (held - taken) | assigned, bool(taken)
        time.sleep(1)  # the group answers the join while nobody polls
        held = _hold(consumer, notes, poll_ms=500, want=2, within_s=30, held=held)
        assert held == {(topic, 0), (topic, 1)}
    finally:
        admin.close()
        consumer.close(autocommit=False)
