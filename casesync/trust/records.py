"""A received record's facts, read from its key, value and headers as the relay set them."""

from __future__ import annotations

from collections.abc import Iterable

from casesync.trust.headers import EVENT_ID, EVENT_TYPE, FINGERPRINT, SOURCE_REGION
from casesync.trust.tree import RecordFacts

_COVERED = (SOURCE_REGION, EVENT_ID, EVENT_TYPE, FINGERPRINT)
_FINGERPRINTS_KEPT = 1024
_fingerprints: dict[bytes, bytes] = {}  # header text -> fingerprint, read once each


def facts_from_record(
    key: bytes | None,
    value: bytes | None,
    headers: Iterable[tuple[str, bytes | None]],
    target_region: str,
) -> RecordFacts:
    """The facts a signature must vouch for, as this record states them; ``target_region`` is
    the region whose inbox it was read from (a record moved to another inbox no longer matches).

    Missing or undecodable headers become values no signer produced, so the record fails
    verification as a bad signature instead of raising here.
    """
    found: dict[str, bytes] = {}
    for name, header in headers:
        if name in _COVERED and name not in found:
            found[name] = header or b""
    return RecordFacts(
        _text(found.get(SOURCE_REGION)),
        target_region,
        key,
        value,
        fingerprint_of(found.get(FINGERPRINT)),
        _text(found.get(EVENT_ID)),
        _text(found.get(EVENT_TYPE)),
    )


def fingerprint_of(header: bytes | None) -> bytes:
    """The fingerprint a ``fingerprint`` header names (its hex text read as bytes); 9 bytes,
    never a real 8-byte fingerprint, when it is not hex text."""
    fingerprint = _fingerprints.get(header or b"")
    if fingerprint is None:
        try:
            fingerprint = bytes.fromhex((header or b"").decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            fingerprint = b"\xff" * 9
        if len(_fingerprints) < _FINGERPRINTS_KEPT:  # a few schemas: this stays small
            _fingerprints[header or b""] = fingerprint
    return fingerprint


def _text(raw: bytes | None) -> str:
    return "" if raw is None else raw.decode("utf-8", "surrogateescape")
