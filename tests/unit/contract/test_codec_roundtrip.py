"""Round trips and schema resolution of the single-object case event codec."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casesync.contract.codec import CaseEventCodec, SingleObjectCodec, case_event_codec
from casesync.contract.errors import UnknownSymbol
from casesync.contract.mapping import event_to_record
from casesync.contract.schemas import load_versions, register_schema
from casesync.contract.store import SchemaStore
from casesync.contract.strategies import case_events
from casesync.contract.testing import sample_case_event
from casesync.domain.events import CaseEvent
from casesync.domain.vocabulary import EventType, HandlingMode

LATEST = case_event_codec()
V1_WRITER = case_event_codec(writer_version=1)
V1_READER = case_event_codec(reader_version=1)


@pytest.mark.parametrize("mode", list(HandlingMode))
@pytest.mark.parametrize("event_type", list(EventType))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_event_type_and_mode_round_trips(
    event_type: EventType, mode: HandlingMode, data: st.DataObject
) -> None:
    """decode(encode(e)) == e for every event type in every handling mode."""
    event = data.draw(case_events(event_type, mode))
    assert LATEST.decode(LATEST.encode(event)) == event


@settings(max_examples=200, deadline=None)
@given(case_events())
def test_record_level_round_trip_keeps_the_record(event: CaseEvent) -> None:
    """The dict hot path returns what was written, with the latest field's default added."""
    record = event_to_record(event)
    decoded = LATEST.records.decode_record(LATEST.records.encode_record(record))
    assert decoded == {**record, "local_reference": None}


@settings(max_examples=200, deadline=None)
@given(case_events())
def test_v1_writer_resolves_to_v2_reader(event: CaseEvent) -> None:
    """Bytes from a region still on v1 decode with the v2 reader, new field at its default."""
    data = V1_WRITER.encode(event)
    assert data[2:10] == load_versions()[0].fingerprint
    assert LATEST.records.decode_record(data)["local_reference"] is None
    assert LATEST.decode(data) == event


@settings(max_examples=200, deadline=None)
@given(case_events())
def test_v2_writer_resolves_to_v1_reader(event: CaseEvent) -> None:
    """A region still reading v1 drops the field it does not know and keeps the event."""
    record = {**event_to_record(event), "local_reference": "如东-2024-417"}
    data = LATEST.records.encode_record(record)
    decoded = V1_READER.records.decode_record(data)
    assert "local_reference" not in decoded
    assert V1_READER.decode(data) == event


def test_encoding_uses_the_latest_writer() -> None:
    """A default codec writes the latest version's fingerprint after the marker."""
    event = sample_case_event()
    data = LATEST.encode(event)
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == load_versions()[-1].fingerprint


def _with_new_event_type_symbol(symbol: str) -> str:
    schema: dict[str, Any] = json.loads(load_versions()[-1].schema_json)
    event_type = next(f for f in schema["fields"] if f["name"] == "event_type")["type"]
    event_type["symbols"].append(symbol)
    return json.dumps(schema)


def test_new_enum_symbol_reads_as_unknown_and_mapping_rejects_it() -> None:
    """A newer writer's new symbol decodes to UNKNOWN as a record; as a CaseEvent it is a typed
    UnknownSymbol, not a crash or a wrong event type."""
    newer = register_schema(_with_new_event_type_symbol("CASE_SUSPENDED"))
    writer = SingleObjectCodec(SchemaStore(), writer=newer, reader=newer)
    record = {**event_to_record(sample_case_event()), "event_type": "CASE_SUSPENDED"}
    data = writer.encode_record(record)

    latest = load_versions()[-1]
    store = SchemaStore([latest, newer])  # as if the newer one came from the schema topic
    reader = CaseEventCodec(SingleObjectCodec(store, writer=latest, reader=latest))
    assert reader.records.decode_record(data)["event_type"] == "UNKNOWN"
    with pytest.raises(UnknownSymbol, match="event_type"):
        reader.decode(data)
