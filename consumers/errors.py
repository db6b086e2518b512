"""Errors of the consumer side. Each has a ``retriable`` flag the retry logic reads."""

from __future__ import annotations

from casesync.contract.errors import ContractError
from casesync.errors import CasesyncError


class ConsumerError(CasesyncError):
    """Base class of consumer-side errors."""


class PositionConflict(ConsumerError):
    """A partition's stored position moved since this consumer read it: another member owns it.

    The batch is rolled back and the partition re-read from the stored position, which is how a
    consumer that lost its partitions in a rebalance is fenced off.
    """

    retriable = True

    def __init__(self, topic: str, partition: int, expected: int | None, stored: int | None):
        super().__init__(
            f"{topic}[{partition}]: expected position {expected}, database holds {stored}"
        )
        self.topic = topic
        self.partition = partition
        self.expected = expected
        self.stored = stored


class TransientFailure(ConsumerError):
    """A service the batch needs did not answer (database, broker, schema topic); retry later."""

    retriable = True


class EmptyRecord(ContractError):
    """The record has no value (a tombstone), which the events contract never produces: a
    decode rejection, dead-lettered like undecodable bytes."""


class AwaitingManifest(TransientFailure):
    """No manifest is in force, so nothing can be verified: the batch waits for one (nothing
    unverified is applied, nothing is dead-lettered for it)."""
