"""Decoding and validating one record for the receiving region."""

from __future__ import annotations

import pytest

from casesync.contract.codec import case_event_codec
from casesync.contract.errors import SchemaSourceUnavailable
from casesync.contract.testing import InMemorySchemaSource
from casesync.domain.catalogue import Catalogue
from consumers.records import SOURCE_HEADER, TARGET_HEADER, Incoming, Rejection, Stage
from consumers.triage import Triage

from .conftest import RUDONG, TONGXIANG, TOPIC, EventFactory, record_at


@pytest.fixture
def triage(catalogue: Catalogue) -> Triage:
    """Tongxiang's triage with the bundled schemas and no remote source."""
    return Triage(TONGXIANG, catalogue, case_event_codec().decode)


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


def test_record_addressed_to_another_region_is_rejected(
    triage: Triage, make_event: EventFactory
) -> None:
    """A record whose target header names another region, or that has none, or whose event is
    not shared with this region is dead-lettered as misaddressed, never applied."""
    data = case_event_codec().encode(make_event())
    source = (SOURCE_HEADER, RUDONG.encode())
    for headers in ((source, (TARGET_HEADER, b"640100")), (source,)):
        outcome = triage(record_at(0, value=data, headers=headers))
        assert isinstance(outcome, Rejection)
        assert (outcome.stage, outcome.error_class) == (Stage.VALIDATE, "Misaddressed")
    elsewhere = make_event(target_regions=("640100",), source_region="320500")
    outcome = triage(record_at(1, value=case_event_codec().encode(elsewhere)))
    assert isinstance(outcome, Rejection)
    assert outcome.error_class == "Misaddressed"


def test_spoofed_source_is_rejected(triage: Triage, make_event: EventFactory) -> None:
    """An event claiming Suzhou in a record Rudong sent is rejected as spoofed."""
    event = make_event(source_region="320500")
    outcome = triage(record_at(0, value=case_event_codec().encode(event)))
    assert isinstance(outcome, Rejection)
    assert (outcome.stage, outcome.error_class) == (Stage.VALIDATE, "SpoofedSource")
    assert outcome.event == event


def test_record_without_a_source_header_counts_as_spoofed(
    triage: Triage, make_event: EventFactory
) -> None:
    """A record that names no sender cannot prove its source: its event is spoofed."""
    data = case_event_codec().encode(make_event())
    outcome = triage(record_at(0, value=data, headers=((TARGET_HEADER, TONGXIANG.encode()),)))
    assert isinstance(outcome, Rejection)
    assert outcome.error_class == "SpoofedSource"


def test_unavailable_schema_source_is_raised_for_retry(catalogue: Catalogue) -> None:
    """A schema topic that does not answer is a transient failure, never a rejection."""
    source = InMemorySchemaSource(fail_with=OSError("broker down"))
    triage = Triage(TONGXIANG, catalogue, case_event_codec(source).decode)
    with pytest.raises(SchemaSourceUnavailable):
        triage(Incoming(TOPIC, 0, 0, None, b"\xc3\x01" + bytes(8) + b"\x00"))
