"""Decode and validate one record of the region's inbox: an event to sequence, or a rejection.

First the record's signature is verified (``consumers.verification``): a record its source
region did not sign as it is goes no further. The relay that wrote the record named its own
region (``source_region``) and the inbox's (``target_region``) in its headers: a record for
another region, or whose sender is not the event's source, is a rejection like any other bad
record (dead-lettered, never blocking).

Pure apart from the codec's remote schema lookup. A schema source that does not answer raises
``SchemaSourceUnavailable`` (retriable) through to the caller, which retries: a transient
failure never becomes a dead letter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from casesync.contract.errors import ContractError
from casesync.domain.catalogue import Catalogue
from casesync.domain.errors import DomainError
from casesync.domain.events import CaseEvent
from casesync.domain.validation import check_addressed, validate_event
from consumers.errors import EmptyRecord
from consumers.records import SOURCE_HEADER, TARGET_HEADER, Incoming, Outcome, Rejection, Stage

Decode = Callable[[bytes], CaseEvent]
# Per record of a batch: None when its signature holds, else its rejection.
Verify = Callable[[Sequence[Incoming]], list[Rejection | None]]


class Triage:
    """Turns records of one region's inbox into outcomes for that region."""

    def __init__(
        self, region: str, catalogue: Catalogue, decode: Decode, verify: Verify | None = None
    ) -> None:
        self.region = region
        self._catalogue = catalogue
        self._decode = decode
        self._verify = verify  # None: signatures are not checked (CASESYNC_SIGNING=off)

    def __call__(self, record: Incoming) -> Outcome:
        """The outcome of ``record``; raises only retriable errors."""
        return self.batch([record])[0]

    def batch(self, records: Sequence[Incoming]) -> list[Outcome]:
        """The outcome of each of ``records``, their signatures checked together; raises only
        retriable errors."""
        if self._verify is None:
            return [self._unverified(record) for record in records]
        return [
            self._unverified(record) if refused is None else refused
            for record, refused in zip(records, self._verify(records), strict=True)
        ]

    def _unverified(self, record: Incoming) -> Outcome:
        """The outcome of ``record`` whose signature holds or is not checked."""
        if record.value is None:
            return Rejection.of(Stage.DECODE, EmptyRecord("record has no value"))
        try:
            event = self._decode(record.value)
        except ContractError as e:
            if e.retriable:
                raise
            return Rejection.of(Stage.DECODE, e)
        source = target = None
        for name, value in record.headers:
            if name == SOURCE_HEADER:
                source = value.decode(errors="replace")
            elif name == TARGET_HEADER:
                target = value.decode(errors="replace")
        try:
            check_addressed(event, self.region, target)
            validate_event(event, self._catalogue, self.region, source)
        except DomainError as e:
            return Rejection.of(Stage.VALIDATE, e, event)
        return event
