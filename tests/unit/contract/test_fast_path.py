"""The generated codecs against fastavro, the reference: same bytes, same values, never laxer."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

import fastavro
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casesync.contract.codec import HEADER_SIZE, SingleObjectCodec
from casesync.contract.fastpath import decoder_for, encoder_for
from casesync.contract.mapping import CASE_EVENT_BINDING, event_to_record
from casesync.contract.schemas import RegisteredSchema, load_versions, register_schema
from casesync.contract.store import SchemaStore
from casesync.contract.strategies import case_events, corrupt
from casesync.contract.testing import sample_case_event
from casesync.contract.wire import long_bytes, read_long
from casesync.domain.events import CaseEvent

V1, V2 = load_versions()
PAIRS = [(V1, V1), (V1, V2), (V2, V1), (V2, V2)]


def reference_encode(schema: RegisteredSchema, record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    buffer.write(b"\xc3\x01" + schema.fingerprint)
    fastavro.schemaless_writer(buffer, schema.parsed, record)
    return buffer.getvalue()


def reference_decode(writer: RegisteredSchema, reader: RegisteredSchema, data: bytes) -> Any:
    return fastavro.schemaless_reader(io.BytesIO(data[HEADER_SIZE:]), writer.parsed, reader.parsed)


def fast_encode(schema: RegisteredSchema, value: Any, **kw: Any) -> bytes:
    encoder = encoder_for(schema, **kw)
    assert encoder is not None
    return encoder(value)


def fast_decode(writer: RegisteredSchema, reader: RegisteredSchema, data: bytes, **kw: Any) -> Any:
    decoder = decoder_for(writer, reader, **kw)
    assert decoder is not None
    value, end = decoder(data, HEADER_SIZE)
    assert end == len(data)
    return value


def test_bundled_schemas_are_inside_the_generated_subset() -> None:
    """Every released version and pair gets generated code, so the hot path is not fastavro."""
    for schema in (V1, V2):
        assert encoder_for(schema) is not None
        assert encoder_for(schema, CASE_EVENT_BINDING) is not None
    for writer, reader in PAIRS:
        assert decoder_for(writer, reader) is not None
        assert decoder_for(writer, reader, CASE_EVENT_BINDING) is not None


@settings(max_examples=300, deadline=None)
@given(case_events(), st.none() | st.text(max_size=20))
def test_encodings_equal_fastavro_byte_for_byte(event: CaseEvent, local: str | None) -> None:
    """Dict and CaseEvent encoders write exactly fastavro's bytes for both versions."""
    record = event_to_record(event)
    for schema in (V1, V2):
        expected = reference_encode(schema, {**record, "local_reference": local})
        assert fast_encode(schema, {**record, "local_reference": local}) == expected
        if local is None:  # CaseEvent has no local_reference: the default is written
            assert fast_encode(schema, record) == expected
            assert fast_encode(schema, event, binding=CASE_EVENT_BINDING) == expected


@settings(max_examples=300, deadline=None)
@given(case_events(), st.none() | st.text(max_size=20))
def test_decodings_equal_fastavro_for_every_pair(event: CaseEvent, local: str | None) -> None:
    """Resolution in every direction gives fastavro's record, and the event itself when bound."""
    record = {**event_to_record(event), "local_reference": local}
    for writer, reader in PAIRS:
        data = reference_encode(writer, record)
        assert fast_decode(writer, reader, data) == reference_decode(writer, reader, data)
        assert fast_decode(writer, reader, data, binding=CASE_EVENT_BINDING) == event


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case_events(), st.data())
def test_corrupted_bodies_never_decode_where_fastavro_refuses(
    event: CaseEvent, data: st.DataObject
) -> None:
    """The generated decoder may give up more often than fastavro, never accept more or differ."""
    writer = data.draw(st.sampled_from([V1, V2]), label="writer")
    corrupted = corrupt(
        data, reference_encode(writer, event_to_record(event)), HEADER_SIZE, min_flips=1
    )
    decoder = decoder_for(writer, V2)
    assert decoder is not None
    try:
        value, end = decoder(corrupted, HEADER_SIZE)
    except Exception:  # noqa: BLE001 - giving up is always allowed
        return
    if end != len(corrupted):
        return
    buffer = io.BytesIO(corrupted[HEADER_SIZE:])
    assert fastavro.schemaless_reader(buffer, writer.parsed, V2.parsed) == value
    assert buffer.tell() == len(corrupted) - HEADER_SIZE


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_long_varints_round_trip(n: int) -> None:
    """The table-driven varint writer and the unrolled reader agree on every 64-bit long."""
    encoded = long_bytes(n)
    assert read_long(encoded + b"\x00", 0) == (n, len(encoded))


def test_values_the_fast_path_refuses_are_written_by_fastavro() -> None:
    """A naive datetime or an int timestamp is fastavro's business: same bytes as before."""
    codec = SingleObjectCodec(SchemaStore(), writer=V2, reader=V2)
    record = event_to_record(sample_case_event())
    for occurred_at in (datetime(2024, 5, 6, 8, 0, 1), 1714982401123456):
        changed = {**record, "occurred_at": occurred_at}
        assert codec.encode_record(changed) == reference_encode(V2, changed)


def test_schema_outside_the_subset_stays_on_fastavro() -> None:
    """A future writer with a map field has no generated code and still round-trips."""
    schema: dict[str, Any] = json.loads(V2.schema_json)
    schema["fields"].append(
        {"name": "labels", "type": {"type": "map", "values": "string"}, "default": {}}
    )
    future = register_schema(json.dumps(schema))
    assert encoder_for(future) is None
    assert decoder_for(future, future) is None
    codec = SingleObjectCodec(SchemaStore(), writer=future, reader=future)
    record = {**event_to_record(sample_case_event()), "local_reference": None, "labels": {"a": "b"}}
    assert codec.decode_record(codec.encode_record(record)) == record
