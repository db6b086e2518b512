"""The one signature header each signed record carries, and its byte layout.

A signed record carries ``signature``, whose value is its batch's shared part followed by the
record's own part (all lengths in bytes):

==========================  ==============================================================
batch part (same for every record of the batch)
-------------------------------------------------------------------------------------------
layout                      1 byte, ``0x01``
batch part length           1 byte: the whole batch part's, these two bytes included
suite                       1 length byte, then the suite name, ASCII (``ed25519``)
key                         1 length byte, then the signing key's id, 16 hex digits
time                        1 length byte, then the signing time, ms since the epoch, digits
root signature              1 length byte, then the signature over the batch statement
tree size                   LEB128 varint
record part
-------------------------------------------------------------------------------------------
leaf index                  LEB128 varint
path                        the sibling hashes from the leaf up to the root, 32·depth
==========================  ==============================================================

The signature covers the *statement* ``"casesync-batch-v2\\n" suite 0x00 key_id 0x00 signed_at
0x00 size 0x00 root`` (the fields' bytes as they are, the tree size in decimal digits, and the
tree's root): so the whole batch part is signed, and changing any of it breaks the signature like
changing the record; a changed index or path folds to another root.

One header instead of a header per field: kafka-python encodes and decodes every header of every
record in Python, so each header costs the relay and the consumer about a microsecond a record.

Record headers the relay already sets and the leaf covers: ``source_region``, ``event_id``,
``event_type``, ``fingerprint`` (the writer schema's fingerprint in hex).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

SIGNATURE = "signature"
LAYOUT = 1
# Headers of the withdrawn five-header layout: refused with a clear reason, not as unsigned.
_FORMER_HEADERS = frozenset(("sig_suite", "sig_key", "sig_time", "sig_root", "sig_path"))

SOURCE_REGION = "source_region"
EVENT_ID = "event_id"
EVENT_TYPE = "event_type"
FINGERPRINT = "fingerprint"

STATEMENT_TAG = b"casesync-batch-v2\n"

Header = tuple[str, bytes]
_ONE_BYTE = [bytes((n,)) for n in range(0x100)]


def statement(suite: bytes, key_id: bytes, signed_at: bytes, tree_size: int, root: bytes) -> bytes:
    """The bytes a batch signature covers (no field can hold 0x00: see ``parse_signature``)."""
    size = str(tree_size).encode()
    return b"".join(
        (STATEMENT_TAG, suite, b"\0", key_id, b"\0", signed_at, b"\0", size, b"\0", root)
    )


def batch_part(suite: bytes, key_id: bytes, signed_at: bytes, root_signature: bytes,
               size: int) -> bytes:  # fmt: skip
    """The signature header's opening that every record of a batch of ``size`` shares."""
    fields = (suite, key_id, signed_at, root_signature)
    size_bytes = varint(size)
    length = 2 + sum(1 + len(field) for field in fields) + len(size_bytes)
    if length > 0xFF:  # then no field is either: each length fits its byte
        raise ValueError(f"a signature's batch part of {length} bytes is over 255")
    prefixed = (part for field in fields for part in (_ONE_BYTE[len(field)], field))
    return b"".join((_ONE_BYTE[LAYOUT], _ONE_BYTE[length], *prefixed, size_bytes))


def signature_headers(batch: bytes, paths: list[bytes]) -> list[Header]:
    """One ``signature`` header per record: ``batch`` (``batch_part``), then the record's index
    and its joined path."""
    one_byte = _ONE_BYTE
    return [
        (SIGNATURE, b"".join((batch, one_byte[index] if index < 0x80 else varint(index), path)))
        for index, path in enumerate(paths)
    ]


def batch_part_length(raw: bytes) -> int:
    """Where the batch part of a ``signature`` value ends, as its second byte says (checked by
    ``parse_signature``); 0 when the value is not of this layout."""
    return raw[1] if len(raw) > 2 and raw[0] == LAYOUT else 0


class SignatureClaim(NamedTuple):
    """A record's signature header, as found (not yet checked)."""

    suite: bytes
    key_id: bytes
    signed_at: bytes
    root_signature: bytes
    batch: bytes  # the batch part as a whole: equal for the records of one signed batch
    tree_size: int
    leaf_index: int
    path: bytes  # the sibling hashes, joined


def parse_signature(raw: bytes) -> SignatureClaim:
    """The fields of a ``signature`` value; ValueError when malformed."""
    try:
        if raw[0] != LAYOUT:
            raise ValueError(f"signature layout {raw[0]} is not {LAYOUT}")
        fields = []
        at = 2
        for _ in range(4):
            length = raw[at]
            fields.append(raw[at + 1 : at + 1 + length])
            at += 1 + length
        size, end = read_varint(raw, at)
        index, at = read_varint(raw, end)
    except IndexError:
        raise ValueError("the signature header is truncated") from None
    if end != raw[1]:
        raise ValueError(f"the batch part ends at byte {end}, not at {raw[1]} as it states")
    suite, key_id, signed_at, root_signature = fields
    if not signed_at.isdigit() or b"\0" in suite or b"\0" in key_id:
        raise ValueError("the signing time must be digits; suite and key must not hold 0x00")
    return SignatureClaim(suite, key_id, signed_at, root_signature, raw[:end], size, index,
                          raw[at:])  # fmt: skip


def read_signature(headers: Iterable[tuple[str, bytes | None]]) -> SignatureClaim | None:
    """The record's signature; None when it has none; ValueError when it is repeated, empty or
    malformed, or the record carries the former five-header layout."""
    found: bytes | None = None
    seen = False
    for name, value in headers:
        if name == SIGNATURE:
            if seen or not value:
                raise ValueError("the signature header is repeated or empty")
            found, seen = value, True
        elif name in _FORMER_HEADERS:
            raise ValueError(f"header {name} is of a former signature layout, no longer read")
    return None if found is None else parse_signature(found)


def varint(n: int) -> bytes:
    """``n`` (not negative) as an LEB128 varint."""
    if n < 0x80:
        return _ONE_BYTE[n]
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_varint(raw: bytes, at: int) -> tuple[int, int]:
    """The varint at ``at`` and where it ends; ValueError when truncated or over 35 bits."""
    first = raw[at] if at < len(raw) else None
    if first is not None and first < 0x80:  # every index below 128
        return first, at + 1
    value = shift = 0
    while True:
        if at >= len(raw) or shift > 28:
            raise ValueError("the signature header has a truncated or oversized varint")
        byte = raw[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at
