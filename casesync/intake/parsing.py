"""The request of ``POST /regions/{region}/changes``: its body, its idempotency key, its digest.

Only the shape is checked here; the rules (state machine, items, agreements…) are
``casesync_api.record_change``'s, decided in the region's database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casesync.intake.errors import Refused

MAX_KEY_LENGTH = 200
MAX_CASE_ID_LENGTH = 200
BODY_FIELDS = frozenset({"case_id", "event_type", "expected_version", "fields", "occurred_at"})


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """One change, as ``casesync_api.record_change`` takes it."""

    case_id: str
    event_type: str
    expected_version: int
    fields_json: str  # the ``fields`` object, as JSON for the jsonb argument
    occurred_at: datetime | None  # None: the transaction's time
    digest: bytes  # SHA-256 of the canonical body: "the same request" for idempotency


def parse_change(body: bytes) -> ChangeRequest:
    """The change a request body asks for; Refused (INVALID_JSON, INVALID_REQUEST) otherwise.
    Messages name the field at fault, never its value (it may be personal data)."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refused("INVALID_JSON", "the body is not valid JSON (UTF-8)") from None
    if not isinstance(document, dict):
        raise Refused("INVALID_JSON", "the body must be a JSON object")
    unknown = sorted(set(document) - BODY_FIELDS)
    if unknown:
        raise Refused("INVALID_REQUEST", f"unknown field(s): {', '.join(unknown)}")
    case_id = _text(document, "case_id", MAX_CASE_ID_LENGTH)
    event_type = _text(document, "event_type", 100)
    expected = document.get("expected_version")
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise Refused("INVALID_REQUEST", "expected_version must be a whole number, 0 or more")
    fields = document.get("fields", {})
    if not isinstance(fields, dict):
        raise Refused("INVALID_REQUEST", "fields must be a JSON object")
    return ChangeRequest(
        case_id=case_id,
        event_type=event_type,
        expected_version=expected,
        fields_json=json.dumps(fields, ensure_ascii=False),
        occurred_at=_instant(document.get("occurred_at")),
        digest=request_digest(document),
    )


def request_digest(document: dict[str, Any]) -> bytes:
    """SHA-256 of the body in canonical JSON: key order and spacing do not make it another."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).digest()


def parse_idempotency_key(header: str | None) -> str:
    """The ``Idempotency-Key`` header: 1 to 200 visible ASCII characters (a UUID is usual)."""
    if header is None or not header.strip():
        raise Refused("IDEMPOTENCY_KEY_MISSING", "an Idempotency-Key header is required")
    key = header.strip()
    if len(key) > MAX_KEY_LENGTH or not all(33 <= ord(c) < 127 for c in key):
        raise Refused(
            "IDEMPOTENCY_KEY_MISSING",
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters",
        )
    return key


def _text(document: dict[str, Any], name: str, max_length: int) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise Refused("INVALID_REQUEST", f"{name} must be a non-empty string of at most "
                      f"{max_length} characters")  # fmt: skip
    return value


def _instant(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise Refused("INVALID_REQUEST", "occurred_at must be an ISO 8601 instant with its offset")
    return instant
