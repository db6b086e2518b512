"""The hash tree over a batch of records: one signature covers its root, and each record carries
the path from its leaf to the root so that it verifies alone.

The tree is RFC 9162's (Certificate Transparency v2, section 2.1): leaves are hashed as
``H(0x00 || leaf)``, inner nodes as ``H(0x01 || left || right)`` (so a leaf can never pass for a
node), a tree of n leaves splits at the largest power of two below n (odd counts need no
padding, one leaf is its own root), and a path is checked with the section 2.1.3.2 algorithm
from the leaf's index and the tree's size. ``H`` is the suite's hash (SHA-256 for ed25519).

A leaf covers the record's facts a consumer relies on: a version tag, the seven field lengths
(4 bytes each, big-endian, ``0xFFFFFFFF`` for an absent key or value), then the seven fields in
``RecordFacts`` order. The lengths fix where each field ends, so no bytes can move between fields.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

LEAF_PREFIX = b"\x00casesync-record-v1"
NODE_PREFIX = b"\x01"
_ABSENT = 0xFFFFFFFF
LEAF_LENGTHS = struct.Struct(">7I")  # one length per field, in RecordFacts order

Hasher = Callable[[bytes], Any]  # hashlib-style: Hasher(data).digest()


class RecordFacts(NamedTuple):
    """What a record's signature vouches for (a tuple: one is made for every record)."""

    source_region: str  # the region that owns the case and signs
    target_region: str  # the region whose inbox the record is addressed to
    key: bytes | None
    value: bytes | None
    fingerprint: bytes  # the writer schema's 8-byte CRC-64-AVRO fingerprint
    event_id: str
    event_type: str


# ``RecordFacts`` with the text fields encoded (UTF-8): what the relay holds for every record
# anyway, and what is signed (``encoded_leaf`` joins them into the leaf).
LeafFields = tuple[bytes, bytes, bytes | None, bytes | memoryview | None, bytes, bytes, bytes]


def leaf_fields(facts: RecordFacts) -> LeafFields:
    """The fields of a record's leaf, text encoded."""
    return (facts.source_region.encode(), facts.target_region.encode(), facts.key, facts.value,
            facts.fingerprint, facts.event_id.encode(), facts.event_type.encode())  # fmt: skip


def leaf_bytes(facts: RecordFacts) -> bytes:
    """The canonical bytes of a record's leaf (before hashing)."""
    return encoded_leaf(*leaf_fields(facts))


def encoded_leaf(
    source: bytes,
    target: bytes,
    key: bytes | None,
    value: bytes | memoryview | None,
    fingerprint: bytes,
    event_id: bytes,
    event_type: bytes,
) -> bytes:
    """``leaf_bytes`` of facts whose text fields are encoded already (UTF-8): what the relay
    and the consumer hold for every record anyway."""
    lengths = LEAF_LENGTHS.pack(
        len(source),
        len(target),
        _ABSENT if key is None else len(key),
        _ABSENT if value is None else len(value),
        len(fingerprint),
        len(event_id),
        len(event_type),
    )
    return b"".join(
        (LEAF_PREFIX, lengths, source, target, key or b"", value or b"", fingerprint, event_id,
         event_type)
    )  # fmt: skip


def leaf_hash(facts: RecordFacts, hasher: Hasher) -> bytes:
    """The hash of a record's leaf."""
    return hasher(leaf_bytes(facts)).digest()  # type: ignore[no-any-return]


def node_hash(left: bytes, right: bytes, hasher: Hasher) -> bytes:
    """The hash of an inner node."""
    return hasher(NODE_PREFIX + left + right).digest()  # type: ignore[no-any-return]


def build_joined_tree(leaves: Sequence[bytes], hasher: Hasher) -> tuple[bytes, list[bytes]]:
    """The root of the tree over leaf hashes (at least one) and, per leaf, the sibling hashes of
    its path joined from leaf to root (as the ``signature`` header carries them).

    Built level by level from the leaves: pairs are hashed, and a level's last node without a
    sibling moves up as it is, which gives RFC 9162's tree (split at the largest power of two).
    Paths are then made from the top down, each node's from its sibling and its parent's path,
    so a batch costs one join per node instead of one per leaf and level.
    """
    if not leaves:
        raise ValueError("a tree needs at least one leaf")
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        level = levels[-1]
        up = [
            hasher(NODE_PREFIX + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            up.append(level[-1])
        levels.append(up)
    paths = [b""]  # the root's
    for level in reversed(levels[:-1]):
        count = len(level)
        paths = [(level[i ^ 1] if (i ^ 1) < count else b"") + paths[i >> 1] for i in range(count)]
    return levels[-1][0], paths


def fold_path(leaf: bytes, index: int, size: int, path: bytes, hasher: Hasher) -> bytes:
    """The root that ``path`` (the sibling hashes joined, leaf to root) folds ``leaf`` up to
    (RFC 9162, 2.1.3.2); ValueError when the path does not fit a tree of ``size`` leaves."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} outside a tree of {size}")
    width = len(leaf)
    if len(path) % width:
        raise ValueError(f"the path holds {len(path)} bytes, not a multiple of {width}")
    fn, sn, node = index, size - 1, leaf
    for at in range(0, len(path), width):
        if sn == 0:
            raise ValueError("the path is longer than the tree is deep")
        sibling = path[at : at + width]
        if fn & 1 or fn == sn:
            node = hasher(NODE_PREFIX + sibling + node).digest()
            while not fn & 1 and fn:  # a right edge with no sibling: climb without hashing
                fn >>= 1
                sn >>= 1
        else:
            node = hasher(NODE_PREFIX + node + sibling).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("the path is shorter than the tree is deep")
    return node
