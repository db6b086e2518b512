"""The signature headers each signed record carries, and their byte encodings.

=============  ==============================================================  ================
header         value                                                           bytes
=============  ==============================================================  ================
``sig_suite``  the suite name, ASCII (``ed25519``)                             7
``sig_key``    the signing key's id, 16 hex digits                             16
``sig_time``   the signing time, milliseconds since the epoch, ASCII digits    13
``sig_root``   the signature over the batch statement (raw, 64 for Ed25519)   64
``sig_path``   varint leaf index, varint tree size, then the sibling hashes   2–6 + 32·depth
=============  ==============================================================  ================

The first four are the same for every record of a batch. The signature covers the *statement*
``"casesync-batch-v1\\n" suite 0x00 key_id 0x00 signed_at 0x00 root`` (the header bytes as they
are, and the tree's root): so changing the suite, key or time header breaks it like changing the
record. Kafka adds a length byte or two per header name and value.

Record headers the relay already sets and the leaf covers: ``source_region``, ``event_id``,
``event_type``, ``fingerprint`` (the writer schema's fingerprint in hex).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

SIG_SUITE = "sig_suite"
SIG_KEY = "sig_key"
SIG_TIME = "sig_time"
SIG_ROOT = "sig_root"
SIG_PATH = "sig_path"
SIGNATURE_HEADERS = (SIG_SUITE, SIG_KEY, SIG_TIME, SIG_ROOT, SIG_PATH)

SOURCE_REGION = "source_region"
EVENT_ID = "event_id"
EVENT_TYPE = "event_type"
FINGERPRINT = "fingerprint"

STATEMENT_TAG = b"casesync-batch-v1\n"

Header = tuple[str, bytes]
_ONE_BYTE = [bytes((n,)) for n in range(0x80)]


def statement(suite: bytes, key_id: bytes, signed_at: bytes, root: bytes) -> bytes:
    """The bytes a batch signature covers (no field can hold 0x00: see ``read_signature``)."""
    return b"".join((STATEMENT_TAG, suite, b"\0", key_id, b"\0", signed_at, b"\0", root))


class BatchHeaders(NamedTuple):
    """The headers every record of one signed batch shares (made once per batch)."""

    suite: Header
    key: Header
    time: Header
    root_signature: Header


class RecordSignature(NamedTuple):
    """One record's signature headers: its batch's shared ones and its own path."""

    batch: BatchHeaders
    path: bytes

    @property
    def headers(self) -> tuple[Header, ...]:
        """The five ``(name, bytes)`` pairs to append to the record's Kafka headers."""
        return (*self.batch, (SIG_PATH, self.path))


def encode_path(index: int, size: int, siblings: Iterable[bytes]) -> bytes:
    """``sig_path``: LEB128 varints of index and size, then the siblings, leaf to root."""
    return _varint(index) + _varint(size) + b"".join(siblings)


def decode_path(raw: bytes, hash_size: int) -> tuple[int, int, list[bytes]]:
    """(index, size, siblings) from ``sig_path``; ValueError when malformed."""
    if len(raw) > 2 and raw[0] < 0x80 and raw[1] < 0x80:  # batches up to 127 records
        index, size, at = raw[0], raw[1], 2
    else:
        index, at = _read_varint(raw, 0)
        size, at = _read_varint(raw, at)
    rest = len(raw) - at
    if rest % hash_size:
        raise ValueError(f"sig_path holds {rest} bytes of hashes, not a multiple of {hash_size}")
    return index, size, [raw[i : i + hash_size] for i in range(at, len(raw), hash_size)]


class SignatureClaim(NamedTuple):
    """The signature headers of one record, as found (not yet checked)."""

    suite: bytes
    key_id: bytes
    signed_at: bytes
    root_signature: bytes
    path: bytes


def read_signature(headers: Iterable[tuple[str, bytes | None]]) -> SignatureClaim | None:
    """The record's signature headers; None when it has none of them; ValueError when only
    some are there, or one appears twice or is malformed."""
    found: dict[str, bytes] = {}
    for name, value in headers:
        if name in SIGNATURE_HEADERS:
            if name in found or value is None:
                raise ValueError(f"header {name} is repeated or empty")
            found[name] = value
    if not found:
        return None
    missing = [name for name in SIGNATURE_HEADERS if name not in found]
    if missing:
        raise ValueError(f"signature headers missing: {', '.join(missing)}")
    claim = SignatureClaim(*(found[name] for name in SIGNATURE_HEADERS))
    if not claim.signed_at.isdigit() or b"\0" in claim.suite or b"\0" in claim.key_id:
        raise ValueError("sig_time must be digits; sig_suite and sig_key must not hold 0x00")
    return claim


def _varint(n: int) -> bytes:
    if n < 0x80:  # every index and size below 128, and the first 128 of any batch
        return _ONE_BYTE[n]
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _read_varint(raw: bytes, at: int) -> tuple[int, int]:
    if at + 1 < len(raw) and raw[at + 1] < 0x80:  # one byte, or two (up to 16,383)
        first = raw[at]
        if first < 0x80:
            return first, at + 1
        return first & 0x7F | raw[at + 1] << 7, at + 2
    value = shift = 0
    while True:
        if at >= len(raw) or shift > 28:
            raise ValueError("sig_path has a truncated or oversized varint")
        byte = raw[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at
