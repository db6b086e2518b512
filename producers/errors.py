"""Errors of the producer side: recording case changes and relaying the outbox."""

from __future__ import annotations

from casesync.errors import CasesyncError


class ProducerError(CasesyncError):
    """Base class of producer-side errors."""


class ConcurrentChange(ProducerError):
    """The case changed since the caller read it (optimistic concurrency lost); re-read, retry."""

    def __init__(self, case_id: str, expected: int, actual: int | None) -> None:
        now = "does not exist" if actual is None else f"is at version {actual}"
        super().__init__(f"case {case_id}: expected version {expected}, but it {now}")
        self.case_id = case_id
        self.expected = expected
        self.actual = actual


class InvalidChange(ProducerError):
    """The change lacks what its event type needs (e.g. a submission without an item)."""


class NotOwner(ProducerError):
    """A region tried to change a case another region owns: each region writes only its own."""
