"""Bad input of any kind gives a typed ContractError, never another exception or personal data."""

from __future__ import annotations

import contextlib
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casesync.contract.codec import HEADER_SIZE, MARKER, case_event_codec
from casesync.contract.errors import (
    ContractError,
    NotSingleObjectEncoded,
    UndecodableBody,
    UnencodableRecord,
    UnknownFingerprint,
)
from casesync.contract.mapping import event_to_record
from casesync.contract.strategies import case_events
from casesync.contract.testing import InMemorySchemaSource, sample_case_event
from casesync.domain.events import Applicant, CaseEvent

CODEC = case_event_codec()
HEADER = CODEC.encode(sample_case_event())[:HEADER_SIZE]
ID_NUMBER = "11010519491231002X"


def varint(n: int) -> bytes:
    """Avro zig-zag varint of a 64-bit long."""
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def decode_or_typed_error(data: bytes) -> None:
    """Decode ``data``; a ContractError is an accepted outcome, anything else fails the test."""
    with contextlib.suppress(ContractError):
        CODEC.decode(data)


@pytest.mark.parametrize(
    "data",
    [b"", b"\xc3", b"\xc3\x01", b"\xc3\x01\x00\x00\x00", b"\x00" * 20, b"\xc3\x02" + b"\x00" * 20],
    ids=["empty", "half-marker", "marker-only", "short-fingerprint", "zeros", "wrong-marker"],
)
def test_missing_or_wrong_marker_is_not_single_object_encoded(data: bytes) -> None:
    """Anything shorter than marker + fingerprint, or with another marker, is rejected as such."""
    with pytest.raises(NotSingleObjectEncoded):
        CODEC.decode(data)


def test_unknown_fingerprint_with_no_schema_anywhere() -> None:
    """Well-framed bytes under a fingerprint nobody knows give UnknownFingerprint."""
    with pytest.raises(UnknownFingerprint):
        case_event_codec(InMemorySchemaSource()).decode(MARKER + b"\xff" * 8 + b"\x00")


def test_trailing_bytes_after_the_body_are_rejected() -> None:
    """One extra byte after a valid body is an UndecodableBody, not a silent success."""
    with pytest.raises(UndecodableBody, match="trail"):
        CODEC.decode(CODEC.encode(sample_case_event()) + b"\x00")


def test_every_truncation_of_a_valid_message_is_rejected() -> None:
    """No prefix of a valid message decodes."""
    data = CODEC.encode(sample_case_event())
    for end in range(len(data)):
        with pytest.raises(ContractError):
            CODEC.decode(data[:end])


@pytest.mark.parametrize(
    "body",
    [
        varint(2**62),  # event_id claims 4 EiB
        varint(2**62) + b"abc",
        # fields up to target_regions, then an array block claiming 2**62 items
        b"\x00\x02\x00\x02\x00\x00\x00\x00" + varint(2**62),
        # a negative block count (count and byte size follow) with absurd values
        b"\x00\x02\x00\x02\x00\x00\x00\x00" + varint(-(2**62)) + varint(2**62),
        # occurred_at far outside any datetime
        b"\x00\x02\x00\x02\x00" + varint(2**62) + b"\x00\x00\x00",
    ],
    ids=["huge-string", "huge-string-short-data", "huge-array", "negative-block", "huge-timestamp"],
)
def test_absurd_lengths_and_values_are_undecodable(body: bytes) -> None:
    """Giant length prefixes and out-of-range timestamps fail fast as UndecodableBody."""
    with pytest.raises(UndecodableBody):
        CODEC.decode(HEADER + body)


def test_invalid_utf8_is_undecodable() -> None:
    """A string field with bytes that are not UTF-8 gives UndecodableBody."""
    with pytest.raises(UndecodableBody):
        CODEC.decode(HEADER + varint(2) + b"\xff\xfe")


def test_unencodable_record_does_not_leak_the_id_number() -> None:
    """A record that does not fit the schema is refused without quoting its values."""
    record = event_to_record(sample_case_event())
    record["snapshot"]["applicant"] = {"kind": "PERSON", "name": 7, "id_number": ID_NUMBER}
    with pytest.raises(UnencodableRecord) as caught:
        CODEC.records.encode_record(record)
    assert ID_NUMBER not in str(caught.value)
    assert caught.value.__cause__ is None


def test_decode_errors_do_not_quote_the_body() -> None:
    """A body holding an ID number that fails to decode is reported without that number."""
    event = sample_case_event()
    applicant = Applicant(event.snapshot.applicant.kind, "某人", id_number=ID_NUMBER)
    data = CODEC.encode(replace(event, snapshot=replace(event.snapshot, applicant=applicant)))
    assert ID_NUMBER.encode() in data
    with pytest.raises(ContractError) as caught:
        CODEC.decode(data[:-3])
    assert ID_NUMBER not in str(caught.value)
    assert ID_NUMBER not in str(caught.value.__cause__)


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_an_event_or_a_typed_error(data: bytes) -> None:
    """Random bytes never raise anything but a ContractError."""
    decode_or_typed_error(data)


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_arbitrary_bodies_behind_a_valid_header_give_an_event_or_a_typed_error(body: bytes) -> None:
    """Random bodies under the real fingerprint never raise anything but a ContractError."""
    decode_or_typed_error(HEADER + body)


@settings(max_examples=500, deadline=None)
@given(case_events(), st.data())
def test_corrupted_valid_messages_give_an_event_or_a_typed_error(
    event: CaseEvent, data: st.DataObject
) -> None:
    """Byte flips, truncations and appended bytes on real messages stay inside the contract."""
    message = bytearray(CODEC.encode(event))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4), label="flips")):
        index = data.draw(st.integers(min_value=0, max_value=len(message) - 1), label="at")
        message[index] ^= data.draw(st.integers(min_value=1, max_value=255), label="mask")
    cut = data.draw(st.integers(min_value=0, max_value=len(message)), label="cut")
    tail = data.draw(st.binary(max_size=8), label="tail")
    decode_or_typed_error(bytes(message[:cut]) + tail)
