"""The batch hash tree: every leaf's path folds to the root, whatever the batch size."""

from __future__ import annotations

import hashlib

import pytest

from casesync.trust.headers import (
    batch_part,
    parse_signature,
    signature_headers,
)
from casesync.trust.tree import (
    RecordFacts,
    build_joined_tree,
    fold_path,
    leaf_bytes,
    leaf_hash,
)

from .conftest import record_facts

H = hashlib.sha256


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 9, 16, 17, 100])
def test_every_leaf_folds_to_the_root(size: int) -> None:
    """For odd and even sizes alike, each leaf with its own path and index gives the root."""
    leaves = [leaf_hash(f, H) for f in record_facts(size)]
    root, paths = build_joined_tree(leaves, H)
    for index, path in enumerate(paths):
        assert fold_path(leaves[index], index, size, path, H) == root


def test_a_one_record_batch_is_its_own_root() -> None:
    """One leaf: the root is the leaf's hash and the path is empty."""
    leaf = leaf_hash(record_facts(1)[0], H)
    assert build_joined_tree([leaf], H) == (leaf, [b""])
    assert fold_path(leaf, 0, 1, b"", H) == leaf


def test_a_path_under_a_wrong_index_or_size_does_not_give_the_root() -> None:
    """The index and size steer the fold: a wrong one gives another value or is refused."""
    leaves = [leaf_hash(f, H) for f in record_facts(7)]
    root, paths = build_joined_tree(leaves, H)
    assert fold_path(leaves[2], 3, 7, paths[2], H) != root
    with pytest.raises(ValueError, match="deep"):
        fold_path(leaves[2], 2, 3, paths[2], H)
    with pytest.raises(ValueError, match="outside"):
        fold_path(leaves[2], 7, 7, paths[2], H)
    with pytest.raises(ValueError, match="multiple"):
        fold_path(leaves[2], 2, 7, paths[2][:-1], H)


def test_fields_are_length_prefixed_and_an_absent_value_differs_from_an_empty_one() -> None:
    """Bytes moved from one field to the next, or None for b'', change the leaf."""
    base = record_facts(1)[0]
    moved = base._replace(key=b"ab", value=b"c")
    other = base._replace(key=b"a", value=b"bc")
    assert leaf_bytes(moved) != leaf_bytes(other)
    assert leaf_bytes(base._replace(key=None)) != leaf_bytes(base._replace(key=b""))


def test_a_leaf_cannot_pass_for_an_inner_node() -> None:
    """Leaves start with 0x00 and nodes with 0x01 (domain separation)."""
    facts: RecordFacts = record_facts(1)[0]
    assert leaf_bytes(facts)[:1] == b"\x00"


def test_a_signature_header_parses_back_to_its_fields() -> None:
    """The batch part (suite, key, time, signature, tree size), then the record's varint index
    and its sibling hashes."""
    siblings = [bytes([i]) * 32 for i in range(13)]
    batch = batch_part(b"ed25519", b"0123456789abcdef", b"1772438400000", bytes(64), 5000)
    paths = [b""] * 4999 + [b"".join(siblings)]
    _, raw = signature_headers(batch, paths)[4999]
    assert len(raw) == len(batch) + 2 + 13 * 32
    claim = parse_signature(raw)
    assert (claim.suite, claim.key_id, claim.signed_at, claim.root_signature) == (
        b"ed25519",
        b"0123456789abcdef",
        b"1772438400000",
        bytes(64),
    )
    assert (claim.batch, claim.tree_size, claim.leaf_index) == (batch, 5000, 4999)
    assert claim.path == b"".join(siblings)
    with pytest.raises(ValueError, match="truncated"):
        parse_signature(raw[:10])


def _rfc9162_root(leaves: list[bytes]) -> bytes:
    """MTH of RFC 9162, section 2.1.1, written as the RFC states it (recursive split)."""
    if len(leaves) == 1:
        return leaves[0]
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    return H(b"\x01" + _rfc9162_root(leaves[:split]) + _rfc9162_root(leaves[split:])).digest()


def _rfc9162_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162, section 2.1.3.1, as the RFC states it."""
    if len(leaves) == 1:
        return []
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < split:
        return [*_rfc9162_path(m, leaves[:split]), _rfc9162_root(leaves[split:])]
    return [*_rfc9162_path(m - split, leaves[split:]), _rfc9162_root(leaves[:split])]


@pytest.mark.parametrize("size", [*range(1, 34), 255, 256, 257, 1000])
def test_the_root_is_rfc_9162s_and_joined_paths_are_the_paths(size: int) -> None:
    """Built level by level, the root equals the RFC's recursive definition, and each joined
    path is that leaf's siblings, leaf to root."""
    leaves = [leaf_hash(f, H) for f in record_facts(size)]
    root, joined = build_joined_tree(leaves, H)
    assert root == _rfc9162_root(leaves)
    for m in range(0, size, 1 + size // 100):
        assert joined[m] == b"".join(_rfc9162_path(m, leaves))
