"""The compiled codecs: built for the bundled schemas, used, never laxer than the Python ones."""

from __future__ import annotations

import io
import json
from typing import Any

import fastavro
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casesync.contract.codec import HEADER_SIZE
from casesync.contract.fastpath import decoder_for, encoder_for
from casesync.contract.gen_reader import compile_decoder
from casesync.contract.gen_writer import compile_encoder
from casesync.contract.mapping import CASE_EVENT_BINDING, event_to_record
from casesync.contract.native import is_compiled, load_decoder, load_encoder
from casesync.contract.schemas import load_versions, register_schema
from casesync.contract.strategies import case_events, corrupt
from casesync.contract.testing import sample_case_event
from casesync.domain.events import CaseEvent

V1, V2 = load_versions()
BINDINGS = (None, CASE_EVENT_BINDING)


def _encode(writer: Any, event: CaseEvent) -> bytes:
    buffer = io.BytesIO()
    buffer.write(b"\xc3\x01" + writer.fingerprint)
    fastavro.schemaless_writer(buffer, writer.parsed, event_to_record(event))
    return buffer.getvalue()


def _outcome(decoder: Any, data: bytes) -> tuple[Any, int] | None:
    """(value, end) when the decoder accepts the whole message, None when it gives up."""
    try:
        value, end = decoder(data, HEADER_SIZE)
    except Exception:  # noqa: BLE001 - giving up is the decoder's right
        return None
    return (value, end) if end == len(data) else None


def test_every_bundled_writer_read_as_the_latest_has_a_compiled_decoder() -> None:
    """`make setup` built them: the hot path of every consumer runs compiled code."""
    for writer in (V1, V2):
        for binding in BINDINGS:
            compiled = load_decoder(writer.parsed, V2.parsed, binding)
            assert compiled is not None, "compiled decoders missing: run `make setup`"
            assert is_compiled(decoder_for(writer, V2, binding))


def test_the_latest_writer_has_a_compiled_encoder() -> None:
    """Producers encode every change with compiled code too."""
    for binding in BINDINGS:
        compiled = load_encoder(V2.parsed, b"\xc3\x01" + V2.fingerprint, binding)
        assert compiled is not None, "compiled encoders missing: run `make setup`"
        assert is_compiled(encoder_for(V2, binding))


@settings(max_examples=300, deadline=None)
@given(case_events())
def test_compiled_encoder_writes_the_python_encoders_bytes(event: CaseEvent) -> None:
    """Same bytes from the compiled and the Python encoder, for the event and its record."""
    header = b"\xc3\x01" + V2.fingerprint
    for binding, value in ((None, event_to_record(event)), (CASE_EVENT_BINDING, event)):
        compiled = load_encoder(V2.parsed, header, binding)
        assert compiled is not None
        assert compiled(value) == compile_encoder(V2.parsed, header, binding)(value)


def test_a_writer_schema_not_built_ahead_gets_the_python_decoder() -> None:
    """A schema first seen on the schema topic still decodes fast, in Python."""
    schema: dict[str, Any] = json.loads(V2.schema_json)
    schema["fields"].append({"name": "channel", "type": "string", "default": "web"})
    future = register_schema(json.dumps(schema))
    assert load_decoder(future.parsed, V2.parsed, CASE_EVENT_BINDING) is None
    python_decoder = decoder_for(future, V2, CASE_EVENT_BINDING)
    assert python_decoder is not None
    assert not is_compiled(python_decoder)


def test_schemas_differing_only_in_data_keep_their_own_constants() -> None:
    """Two writers whose code is the same text (a new enum symbol) each write their header."""
    schema: dict[str, Any] = json.loads(V2.schema_json)
    schema["fields"][1]["type"]["symbols"].append("CASE_REOPENED")
    sibling = register_schema(json.dumps(schema))
    event = sample_case_event()
    mine, theirs = encoder_for(V2, CASE_EVENT_BINDING), encoder_for(sibling, CASE_EVENT_BINDING)
    assert mine is not None
    assert theirs is not None
    assert is_compiled(theirs)
    assert mine(event).startswith(b"\xc3\x01" + V2.fingerprint)
    assert theirs(event).startswith(b"\xc3\x01" + sibling.fingerprint)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case_events(), st.data())
def test_compiled_decoder_accepts_only_what_python_accepts_with_the_same_value(
    event: CaseEvent, data: st.DataObject
) -> None:
    """On flipped, cut and padded messages the compiled code gives up or agrees with Python."""
    writer = data.draw(st.sampled_from([V1, V2]), label="writer")
    binding = data.draw(st.sampled_from(BINDINGS), label="binding")
    corrupted = corrupt(data, _encode(writer, event), HEADER_SIZE, min_flips=0)
    compiled = load_decoder(writer.parsed, V2.parsed, binding)
    assert compiled is not None
    accepted = _outcome(compiled, corrupted)
    if accepted is not None:
        assert accepted == _outcome(compile_decoder(writer.parsed, V2.parsed, binding), corrupted)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_compiled_decoder_survives_any_bytes(body: bytes) -> None:
    """Arbitrary bodies give a value or an exception, never a crash of the process."""
    compiled = load_decoder(V2.parsed, V2.parsed, CASE_EVENT_BINDING)
    assert compiled is not None
    _outcome(compiled, b"\xc3\x01" + V2.fingerprint + body)
