"""The intake's request parsing: a change body, its digest, the Idempotency-Key header."""

from __future__ import annotations

import json
from typing import Any

import pytest

from casesync.intake.errors import Refused
from casesync.intake.parsing import parse_change, parse_idempotency_key

BODY: dict[str, Any] = {
    "case_id": "RD-1",
    "event_type": "CASE_SUBMITTED",
    "expected_version": 0,
    "fields": {"applicant": {"kind": "PERSON", "name": "王芳", "id_number": "330483199001011234"}},
}


def _code(body: bytes) -> str:
    with pytest.raises(Refused) as caught:
        parse_change(body)
    return caught.value.code


def test_a_well_formed_body_becomes_the_arguments_of_record_change() -> None:
    """Case, event, expected version and fields (as JSON) are taken as given; no instant means
    the time of recording."""
    change = parse_change(json.dumps(BODY).encode())
    assert (change.case_id, change.event_type, change.expected_version) == (
        "RD-1", "CASE_SUBMITTED", 0,
    )  # fmt: skip
    assert json.loads(change.fields_json) == BODY["fields"]
    assert change.occurred_at is None


def test_the_digest_ignores_key_order_and_spacing_but_not_values() -> None:
    """Two spellings of one body are the same request; another value is another request."""
    reordered = json.dumps(dict(reversed(list(BODY.items()))), indent=2).encode()
    assert parse_change(reordered).digest == parse_change(json.dumps(BODY).encode()).digest
    other = json.dumps({**BODY, "expected_version": 1}).encode()
    assert parse_change(other).digest != parse_change(json.dumps(BODY).encode()).digest


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "INVALID_JSON"),
        (b"\xff\xfe", "INVALID_JSON"),
        (b"[1, 2]", "INVALID_JSON"),
        (json.dumps({**BODY, "extra": 1}).encode(), "INVALID_REQUEST"),
        (json.dumps({**BODY, "case_id": ""}).encode(), "INVALID_REQUEST"),
        (json.dumps({**BODY, "expected_version": -1}).encode(), "INVALID_REQUEST"),
        (json.dumps({**BODY, "expected_version": True}).encode(), "INVALID_REQUEST"),
        (json.dumps({**BODY, "expected_version": "1"}).encode(), "INVALID_REQUEST"),
        (json.dumps({**BODY, "fields": []}).encode(), "INVALID_REQUEST"),
        (json.dumps({**BODY, "occurred_at": "2026-03-02T10:00:00"}).encode(), "INVALID_REQUEST"),
        (json.dumps({**BODY, "occurred_at": "yesterday"}).encode(), "INVALID_REQUEST"),
    ],
)
def test_a_malformed_body_is_refused_with_a_typed_code(body: bytes, code: str) -> None:
    """Not JSON, not an object, unknown fields, wrong types: each has its code."""
    assert _code(body) == code


def test_a_refusal_never_quotes_a_value_of_the_body() -> None:
    """The message names the field at fault, not what it held (it may be an ID number)."""
    with pytest.raises(Refused) as caught:
        parse_change(json.dumps({**BODY, "case_id": 330483199001011234}).encode())
    assert "330483199001011234" not in caught.value.message
    assert "case_id" in caught.value.message


@pytest.mark.parametrize("header", [None, "", "   ", "has space", "ключ", "k" * 201])
def test_a_missing_or_malformed_idempotency_key_is_refused(header: str | None) -> None:
    """No key, or not 1 to 200 visible ASCII characters: IDEMPOTENCY_KEY_MISSING."""
    with pytest.raises(Refused) as caught:
        parse_idempotency_key(header)
    assert caught.value.code == "IDEMPOTENCY_KEY_MISSING"


def test_a_uuid_is_a_valid_idempotency_key() -> None:
    """The usual key is taken as it is (surrounding blanks dropped)."""
    key = "4a9e0c1e-7b4d-4c55-9f3e-0d6f3c2b9a10"
    assert parse_idempotency_key(f" {key} ") == key
