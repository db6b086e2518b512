"""Decode and validate one record: an event to sequence, a rejection, or not for this region.

Pure apart from the codec's remote schema lookup. A schema source that does not answer raises
``SchemaSourceUnavailable`` (retriable) through to the caller, which retries: a transient
failure never becomes a dead letter.
"""

from __future__ import annotations

from collections.abc import Callable

from casesync.contract.errors import ContractError
from casesync.domain.catalogue import Catalogue
from casesync.domain.errors import DomainError, SpoofedSource
from casesync.domain.events import CaseEvent
from casesync.domain.validation import validate_event
from consumers.errors import EmptyRecord
from consumers.records import NOT_TARGETED, Incoming, Outcome, Rejection, Stage

Decode = Callable[[bytes], CaseEvent]


class Triage:
    """Turns records of partner topics into outcomes for one receiving region."""

    def __init__(
        self,
        region: str,
        catalogue: Catalogue,
        decode: Decode,
        region_of_topic: Callable[[str], str | None],
    ) -> None:
        self.region = region
        self._catalogue = catalogue
        self._decode = decode
        self._region_of_topic = region_of_topic

    def __call__(self, record: Incoming) -> Outcome:
        """The outcome of ``record``; raises only retriable errors."""
        if record.value is None:
            return Rejection.of(Stage.DECODE, EmptyRecord("record has no value"))
        try:
            event = self._decode(record.value)
        except ContractError as e:
            if e.retriable:
                raise
            return Rejection.of(Stage.DECODE, e)
        # Data minimisation: every partner reads the whole topic, but only the regions an
        # event is shared with look further into it.
        if self.region not in event.target_regions:
            return NOT_TARGETED
        topic_region = self._region_of_topic(record.topic)
        try:
            if topic_region is None:
                raise SpoofedSource(f"event {event.event_id} arrived on topic {record.topic}")
            validate_event(event, self._catalogue, self.region, topic_region)
        except DomainError as e:
            return Rejection.of(Stage.VALIDATE, e, event)
        return event
