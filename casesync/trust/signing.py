"""Batch signing: one signature per batch of records, one inclusion path per record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from casesync.trust.headers import (
    SIG_KEY,
    SIG_ROOT,
    SIG_SUITE,
    SIG_TIME,
    BatchHeaders,
    RecordSignature,
    encode_path,
    statement,
)
from casesync.trust.suites import suite_named
from casesync.trust.tree import RecordFacts, build_joined_tree, leaf_bytes


class Signer(Protocol):
    """What signs a batch: a region's ``SigningKey`` (or a test's stand-in)."""

    @property
    def key_id(self) -> str: ...

    @property
    def suite(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, as ``sig_time`` holds them."""
    return int(moment.timestamp() * 1000)


def sign_batch(
    facts: Sequence[RecordFacts], signer: Signer, now: datetime
) -> list[RecordSignature]:
    """Sign ``facts`` (at least one) as one batch at ``now``; the signatures are in order.

    1. hash each record's leaf; 2. build the tree; 3. sign the statement over its root once;
    4. give each record the batch's shared headers and its own path.
    """
    hasher = suite_named(signer.suite).new_hash
    root, paths = build_joined_tree([hasher(leaf_bytes(f)).digest() for f in facts], hasher)
    suite, key_id = signer.suite.encode(), signer.key_id.encode()
    signed_at = str(epoch_ms(now)).encode()
    shared = BatchHeaders(
        (SIG_SUITE, suite),
        (SIG_KEY, key_id),
        (SIG_TIME, signed_at),
        (SIG_ROOT, signer.sign(statement(suite, key_id, signed_at, root))),
    )
    size = len(paths)
    # Each path's siblings are joined already: encode_path adds the index and size before them.
    return [
        RecordSignature(shared, encode_path(index, size, (path,)))
        for index, path in enumerate(paths)
    ]
