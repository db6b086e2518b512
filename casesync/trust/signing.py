"""Batch signing: one signature per batch of records, one inclusion path per record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from casesync.trust.headers import SIGNATURE, Header, batch_part, signature_headers, statement
from casesync.trust.native import load_signed_tree
from casesync.trust.suites import ED25519, suite_named
from casesync.trust.tree import (
    LeafFields,
    RecordFacts,
    build_joined_tree,
    encoded_leaf,
    leaf_fields,
)


class Signer(Protocol):
    """What signs a batch: a region's ``SigningKey`` (or a test's stand-in)."""

    @property
    def key_id(self) -> str: ...

    @property
    def suite(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


# Records under one signature. Each doubling adds a 32-byte hash to every record's path, which
# kafka-python then copies, checksums and encrypts several times over, and halves the signatures:
# 256 leaves cost 8 hashes a record, and one Ed25519 signature (~35 µs) and check (~100 µs) per
# 256 records, under half a microsecond a record. At 5,000 leaves paths were 13 hashes long and
# the relay spent about 3 µs more a record.
LEAVES_PER_TREE = 256
_SIGNED_TREE = load_signed_tree()  # None when not built here: see casesync.trust.native


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, as the signature header states the signing time."""
    return int(moment.timestamp() * 1000)


def sign_batch(facts: Sequence[RecordFacts], signer: Signer, now: datetime) -> list[Header]:
    """Sign ``facts`` (at least one) at ``now``; each record's ``signature`` header, in order."""
    return sign_leaves([leaf_fields(f) for f in facts], signer, now)


def sign_leaves(
    leaves: Sequence[LeafFields],
    signer: Signer,
    now: datetime,
    leaves_per_tree: int = LEAVES_PER_TREE,
) -> list[Header]:
    """``sign_batch`` of the records whose leaves' fields are ``leaves``: a tree, and one
    signature, for each run of ``leaves_per_tree`` of them."""
    headers: list[Header] = []
    for start in range(0, len(leaves), leaves_per_tree):
        headers += _sign_tree(leaves[start : start + leaves_per_tree], signer, now)
    return headers


def _sign_tree(leaves: Sequence[LeafFields], signer: Signer, now: datetime) -> list[Header]:
    """1. hash each leaf; 2. build the tree; 3. sign the statement over its root once;
    4. give each record the batch's shared part and its own index and path."""
    suite, key_id = signer.suite.encode(), signer.key_id.encode()
    signed_at = str(epoch_ms(now)).encode()
    size = len(leaves)

    def batch_part_for(root: bytes) -> bytes:
        signature = signer.sign(statement(suite, key_id, signed_at, size, root))
        return batch_part(suite, key_id, signed_at, signature, size)

    if _SIGNED_TREE is not None and signer.suite == ED25519:  # the same headers, compiled
        return _SIGNED_TREE(list(leaves), batch_part_for, SIGNATURE)
    hasher = suite_named(signer.suite).new_hash
    root, paths = build_joined_tree(
        [hasher(encoded_leaf(*leaf)).digest() for leaf in leaves], hasher
    )
    return signature_headers(batch_part_for(root), paths)
