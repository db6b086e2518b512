"""Errors of the producer side: recording case changes and relaying the outbox."""

from __future__ import annotations

from casesync.errors import CasesyncError


class ProducerError(CasesyncError):
    """Base class of producer-side errors."""


class ConcurrentChange(ProducerError):
    """The case changed since the caller read it (optimistic concurrency lost); re-read, retry."""

    def __init__(self, case_id: str, expected: int, actual: int | None) -> None:
        if actual is not None:
            now = f"it is at version {actual}"
        elif expected == 0:
            now = "another change created it meanwhile"
        else:
            now = "another change moved it on meanwhile"
        super().__init__(f"case {case_id}: expected version {expected}, but {now}")
        self.case_id = case_id
        self.expected = expected
        self.actual = actual


class InvalidChange(ProducerError):
    """The change lacks what its event type needs (e.g. a submission without an item)."""


class NotOwner(ProducerError):
    """A region tried to change a case another region owns: each region writes only its own."""


class ProducerWedged(ProducerError):
    """The relay's producer neither acknowledged nor failed its records for too long (see
    ``RelayConfig.wedged_after_s``): it is discarded and the rows are resent from the outbox."""


class RefusedChange(ProducerError):
    """A change recorded through SQL that may not be published: its outbox row is kept, marked
    with this reason, and shown in ``casesync_api.refused_changes``."""


class CannotSign(ProducerError):
    """No key of this region is valid now in the manifest in force: the relay waits (rows stay
    in the outbox) and says why."""

    retriable = True
