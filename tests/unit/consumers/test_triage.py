"""Decoding and validating one record for the receiving region."""

from __future__ import annotations

import pytest

from casesync.adapters.topics import TopicNames
from casesync.contract.codec import case_event_codec
from casesync.contract.errors import SchemaSourceUnavailable
from casesync.contract.testing import InMemorySchemaSource
from casesync.domain.catalogue import Catalogue
from consumers.records import NOT_TARGETED, Incoming, Rejection, Stage
from consumers.triage import Triage

from .conftest import TONGXIANG, TOPIC, EventFactory, record_at


@pytest.fixture
def triage(catalogue: Catalogue) -> Triage:
    """Tongxiang's triage with the bundled schemas and no remote source."""
    return Triage(TONGXIANG, catalogue, case_event_codec().decode, TopicNames().region_of)


def test_valid_event_comes_out_decoded(triage: Triage, make_event: EventFactory) -> None:
    """A valid, targeted event decodes to the same CaseEvent."""
    event = make_event()
    assert triage(record_at(0, value=case_event_codec().encode(event))) == event


def test_garbage_and_tombstones_are_rejected_at_decode(triage: Triage) -> None:
    """Bytes without the single-object marker, and a record without value, are rejected."""
    garbage = triage(record_at(0, value=b"garbage"))
    tombstone = triage(record_at(1, value=None))
    assert isinstance(garbage, Rejection)
    assert (garbage.stage, garbage.error_class) == (Stage.DECODE, "NotSingleObjectEncoded")
    assert isinstance(tombstone, Rejection)
    assert tombstone.error_class == "EmptyRecord"


def test_event_for_other_regions_is_not_looked_into(
    triage: Triage, make_event: EventFactory
) -> None:
    """An event not shared with this region is skipped, even if it would not validate."""
    event = make_event(target_regions=("640100",), source_region="320500")
    assert triage(record_at(0, value=case_event_codec().encode(event))) is NOT_TARGETED


def test_spoofed_source_is_rejected(triage: Triage, make_event: EventFactory) -> None:
    """An event claiming Suzhou on Rudong's topic is rejected as spoofed."""
    event = make_event(source_region="320500")
    outcome = triage(record_at(0, value=case_event_codec().encode(event)))
    assert isinstance(outcome, Rejection)
    assert (outcome.stage, outcome.error_class) == (Stage.VALIDATE, "SpoofedSource")
    assert outcome.event == event


def test_events_on_a_foreign_topic_count_as_spoofed(
    triage: Triage, make_event: EventFactory
) -> None:
    """A topic that is not an events topic names no source: its events are spoofed."""
    data = case_event_codec().encode(make_event())
    outcome = triage(Incoming("elsewhere", 0, 0, None, data))
    assert isinstance(outcome, Rejection)
    assert outcome.error_class == "SpoofedSource"


def test_unavailable_schema_source_is_raised_for_retry(catalogue: Catalogue) -> None:
    """A schema topic that does not answer is a transient failure, never a rejection."""
    source = InMemorySchemaSource(fail_with=OSError("broker down"))
    triage = Triage(TONGXIANG, catalogue, case_event_codec(source).decode, TopicNames().region_of)
    with pytest.raises(SchemaSourceUnavailable):
        triage(Incoming(TOPIC, 0, 0, None, b"\xc3\x01" + bytes(8) + b"\x00"))
