"""The values the consumer core passes around: a record as read, and what became of it.

They carry no Kafka or PostgreSQL types, so the core is tested without either.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from casesync.domain.events import CaseEvent

TopicPartition = tuple[str, int]

# The headers in which the relay names the region that sent a record and the region it is for.
SOURCE_HEADER = "source_region"
TARGET_HEADER = "target_region"


class Incoming(NamedTuple):
    """One record from the region's inbox (a tuple: made for every record)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def tp(self) -> TopicPartition:
        """(topic, partition), the unit of order and of position tracking."""
        return (self.topic, self.partition)


class Stage(StrEnum):
    """Where a record was found unusable."""

    VERIFY = "verify"  # the signature: not the source region's, or not over these bytes
    DECODE = "decode"  # bytes, fingerprint or schema
    VALIDATE = "validate"  # the event against the catalogue and agreements
    SEQUENCE = "sequence"  # the event against its case's last applied version and state
    STORE = "store"  # the database refused the row (e.g. text it cannot hold)
    REACT = "react"  # applied, but this region's workflow answer could not be recorded


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a record is dead-lettered; ``event`` is set when it decoded."""

    stage: Stage
    error_class: str
    reason: str
    event: CaseEvent | None = None

    @classmethod
    def of(cls, stage: Stage, error: BaseException, event: CaseEvent | None = None) -> Rejection:
        """The rejection for a typed error (its class name and message)."""
        return cls(stage, type(error).__name__, str(error) or type(error).__name__, event)


Outcome = CaseEvent | Rejection
