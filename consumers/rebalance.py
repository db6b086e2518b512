"""Assignment changes, as kafka-python's group coordinator reports them."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from kafka import TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener

from consumers.records import TopicPartition as TP


class AssignmentNotes(ConsumerRebalanceListener):  # type: ignore[misc]
    """Notes assignment changes; runs on kafka-python's IO thread, so it only records them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._assigned: set[TP] = set()
        self._revoked: set[TP] = set()
        self._settled = False  # an assignment arrived since the join or the last revocation

    @property
    def settled(self) -> bool:
        """True once the group gave this member its share (maybe none) and took nothing back
        since: a member with no partitions in a settled group is idle, not stuck."""
        return self._settled

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        with self._lock:
            self._revoked.update((tp.topic, tp.partition) for tp in revoked)
            self._assigned.difference_update((tp.topic, tp.partition) for tp in revoked)
            self._settled = False

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        with self._lock:
            self._assigned.update((tp.topic, tp.partition) for tp in assigned)
            self._settled = True

    def take(self) -> tuple[set[TP], set[TP]]:
        """(assigned, revoked) since the last call."""
        with self._lock:
            assigned, revoked = self._assigned, self._revoked
            self._assigned, self._revoked = set(), set()
        return assigned, revoked
