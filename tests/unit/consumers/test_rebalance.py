"""What the rebalance listener tells the consumer loop: changes, and whether the group settled."""

from __future__ import annotations

from kafka import TopicPartition

from consumers.rebalance import AssignmentNotes


def test_an_empty_share_still_settles_the_member() -> None:
    """A member the group gives no partitions is settled (idle), not stuck in its join."""
    notes = AssignmentNotes()
    assert not notes.settled
    notes.on_partitions_assigned([])
    assert notes.settled
    assert notes.take() == (set(), set())


def test_a_revocation_unsettles_until_the_next_assignment() -> None:
    """Between revoke and assign the member is rebalancing; the changes are handed over once."""
    notes = AssignmentNotes()
    notes.on_partitions_assigned([TopicPartition("t", 0), TopicPartition("t", 1)])
    notes.on_partitions_revoked([TopicPartition("t", 1)])
    assert not notes.settled
    assert notes.take() == ({("t", 0)}, {("t", 1)})
    notes.on_partitions_assigned([TopicPartition("t", 2)])
    assert notes.settled
    assert notes.take() == ({("t", 2)}, set())
