"""Avro binary primitives for the generated codecs: zig-zag varints, tables, epochs.

Lookup tables answer the common case (one-byte varints, short strings) with a single index; the
functions handle everything else and validate it, since every byte may come from an attacker.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MARKER = b"\xc3\x01"  # the two bytes that open every single-object encoded message
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)
DATE_SHIFT = 719163  # date(1970, 1, 1).toordinal(): Avro dates count days from the epoch

_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class BadBody(Exception):  # an internal signal, never raised out of the codec
    """The fast path cannot decode these bytes; the reference decoder decides what is wrong."""


class Unsupported(Exception):
    """A schema feature the generated codecs do not handle; fastavro handles it instead."""


def _varint_loop(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# Encodings of 14-bit groups: minimal ones (last group), and two-byte ones with more to follow.
# Joining a few table entries is several times faster than a loop over 7-bit groups.
_LAST = tuple(_varint_loop(n) for n in range(1 << 14))
_MORE = tuple(bytes(((n & 0x7F) | 0x80, (n >> 7) | 0x80)) for n in range(1 << 14))


def varint(n: int) -> bytes:
    """Unsigned varint of ``n`` >= 0."""
    if n < 1 << 14:
        return _LAST[n]
    if n < 1 << 28:
        return _MORE[n & 0x3FFF] + _LAST[n >> 14]
    if n < 1 << 42:
        return _MORE[n & 0x3FFF] + _MORE[(n >> 14) & 0x3FFF] + _LAST[n >> 28]
    low = _MORE[n & 0x3FFF] + _MORE[(n >> 14) & 0x3FFF] + _MORE[(n >> 28) & 0x3FFF]
    return low + varint(n >> 42)


# Lengths and counts are non-negative; those below 8192 come straight from this table.
SIZE_BYTES = _LAST[::2]


def long_bytes(n: int) -> bytes:
    """Encoding of a long; refuses what is not an int in the 64-bit range."""
    if not isinstance(n, int) or not _LONG_MIN <= n <= _LONG_MAX:
        raise ValueError("not a long")
    return varint((n << 1) ^ (n >> 63))


def int_bytes(n: int) -> bytes:
    """Encoding of an int (32-bit)."""
    if not isinstance(n, int) or not _INT_MIN <= n <= _INT_MAX:
        raise ValueError("not an int")
    return varint((n << 1) ^ (n >> 63))


def size_bytes(n: int) -> bytes:
    """Encoding of a length or item count."""
    return SIZE_BYTES[n] if n < 8192 else varint(n << 1)


# Decoding: value of a one-byte varint, or None when the byte has the continuation bit.
ONE_BYTE: tuple[int | None, ...] = tuple(
    ((b >> 1) ^ -(b & 1)) if b < 0x80 else None for b in range(256)
)
# Same for lengths: a negative one becomes too big to fit, so one bound check covers both.
TOO_BIG = 2**62
ONE_BYTE_SIZE: tuple[int, ...] = tuple(
    (TOO_BIG if b & 1 else b >> 1) if b < 0x80 else -1 for b in range(256)
)


def read_long(data: bytes, pos: int) -> tuple[int, int]:
    """(value, next position) of the varint at ``pos``; at most 10 bytes, as for a 64-bit long.

    Unrolled over the first eight bytes (a timestamp takes eight): a loop costs a third more.
    An IndexError past the end is turned into a decode error by the caller.
    """
    byte = data[pos]
    n = byte & 0x7F
    if byte < 0x80:
        return (n >> 1) ^ -(n & 1), pos + 1
    byte = data[pos + 1]
    n |= (byte & 0x7F) << 7
    if byte < 0x80:
        return (n >> 1) ^ -(n & 1), pos + 2
    byte = data[pos + 2]
    n |= (byte & 0x7F) << 14
    if byte < 0x80:
        return (n >> 1) ^ -(n & 1), pos + 3
    byte = data[pos + 3]
    n |= (byte & 0x7F) << 21
    if byte < 0x80:
        return (n >> 1) ^ -(n & 1), pos + 4
    byte = data[pos + 4]
    n |= (byte & 0x7F) << 28
    if byte < 0x80:
        return (n >> 1) ^ -(n & 1), pos + 5
    byte = data[pos + 5]
    n |= (byte & 0x7F) << 35
    if byte < 0x80:
        return (n >> 1) ^ -(n & 1), pos + 6
    byte = data[pos + 6]
    n |= (byte & 0x7F) << 42
    if byte < 0x80:
        return (n >> 1) ^ -(n & 1), pos + 7
    byte = data[pos + 7]
    n |= (byte & 0x7F) << 49
    if byte < 0x80:
        return (n >> 1) ^ -(n & 1), pos + 8
    return _read_long_loop(data, pos)


def _read_long_loop(data: bytes, pos: int) -> tuple[int, int]:
    n = shift = 0
    for _ in range(10):
        byte = data[pos]  # IndexError past the end: the caller turns it into a decode error
        pos += 1
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (n >> 1) ^ -(n & 1), pos
        shift += 7
    raise BadBody("varint longer than 10 bytes")


def read_size(data: bytes, pos: int) -> tuple[int, int]:
    """(length, next position) of a multi-byte length; negative ones are refused."""
    second = data[pos + 1]
    if second < 0x80:  # 64..8191: digests and most Chinese names
        n = (data[pos] & 0x7F) | (second << 7)
        if not n & 1:
            return n >> 1, pos + 2
    n, pos = read_long(data, pos)
    if n < 0:
        raise BadBody("negative length")
    return n, pos
