"""How ``topic tail`` and ``dlq show`` render records: decoded, masked, never crashing."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from casesync.contract.codec import case_event_codec
from casesync.contract.strategies import case_events
from casesync.ops.tail import MASK, describe, mask_personal, to_json_line
from casesync.ops.topic_reader import RawRecord

CODEC = case_event_codec()


def _record(value: bytes | None, key: bytes | None = b"case-1") -> RawRecord:
    return RawRecord(2, 41, 1_772_413_200_000, key, value, (("event_type", b"CASE_ACCEPTED"),))


def test_an_undecodable_record_gets_an_error_field_and_no_bytes() -> None:
    """Garbage is described with its error class and size; its bytes are never printed."""
    line = describe(_record(b"330483199001011234 not avro"), CODEC.records.decode_record)
    assert line["error"].startswith("NotSingleObjectEncoded")
    assert line["value_size"] == 27
    assert "330483199001011234" not in to_json_line(line)


def test_a_tombstone_is_described_not_decoded() -> None:
    """A record without a value says so in its error field."""
    assert "tombstone" in describe(_record(None), CODEC.records.decode_record)["error"]


def test_position_time_key_and_headers_are_kept() -> None:
    """Partition, offset, ISO time (UTC), text key and text headers are shown as recorded."""
    line = describe(_record(None), CODEC.records.decode_record)
    assert (line["partition"], line["offset"]) == (2, 41)
    assert line["timestamp"] == "2026-03-02T01:00:00+00:00"
    assert line["key"] == "case-1"
    assert line["headers"] == {"event_type": "CASE_ACCEPTED"}


def test_a_binary_key_is_shown_as_base64() -> None:
    """Keys that are not UTF-8 text are printed as base64, marked as such."""
    assert describe(_record(None, key=b"\xff\x00"), CODEC.records.decode_record)["key"] == (
        "base64:/wA="
    )


def test_mask_personal_hides_id_number_credit_code_and_a_persons_given_name() -> None:
    """A person's ID number is masked and their name kept to its surname; a company's name is
    shown; absent fields stay absent."""
    person: dict[str, Any] = {"snapshot": {"applicant": {
        "kind": "PERSON", "name": "王芳", "id_number": "330483199001011234",
        "credit_code": None}}}  # fmt: skip
    assert mask_personal(person)["snapshot"]["applicant"] == {
        "kind": "PERSON",
        "name": "王*",
        "id_number": MASK,
        "credit_code": None,
    }
    company: dict[str, Any] = {"snapshot": {"applicant": {
        "kind": "COMPANY", "name": "如东某某科技有限公司", "id_number": None,
        "credit_code": "91320623MA1XXXXXX1"}}}  # fmt: skip
    assert mask_personal(company)["snapshot"]["applicant"] == {
        "kind": "COMPANY",
        "name": "如东某某科技有限公司",
        "id_number": None,
        "credit_code": MASK,
    }


@settings(max_examples=50, deadline=None)
@given(case_events())
def test_decoded_events_mask_personal_data_unless_asked(event: Any) -> None:
    """For any event, ID number, credit code and a person's given name print masked, or as
    they are when asked for."""
    encoded = _record(CODEC.encode(event))
    applicant = event.snapshot.applicant
    masked = describe(encoded, CODEC.records.decode_record)["value"]["snapshot"]["applicant"]
    shown = describe(encoded, CODEC.records.decode_record, show_personal_data=True)
    unmasked = shown["value"]["snapshot"]["applicant"]
    for name in ("id_number", "credit_code"):
        original = getattr(applicant, name)
        assert masked[name] == (None if original is None else MASK)
        assert unmasked[name] == original
    assert unmasked["name"] == applicant.name
    if applicant.kind == "COMPANY" or not applicant.name:
        assert masked["name"] == applicant.name
    else:
        assert masked["name"] == applicant.name[0] + "*" * (len(applicant.name) - 1)
