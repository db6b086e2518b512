"""The compiled hashing: built here, the same signatures as Python's, never another verdict."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from casesync.trust import native, signing
from casesync.trust.headers import SIGNATURE
from casesync.trust.signing import sign_batch
from casesync.trust.tree import leaf_fields
from casesync.trust.verify import Verifier

from .conftest import NOW, RUDONG, SUZHOU, TONGXIANG, Federation, record_facts
from .test_verify_received import Received, received


def verdicts(verifier: Verifier, records: list[Any]) -> list[str | None]:
    failures = verifier.refusals(records, TONGXIANG, NOW)
    return [None if f is None else type(f).__name__ for f in failures]


def both_ways(federation: Federation, records: list[Any]) -> tuple[list[str | None], ...]:
    """The verdicts of a fresh compiled verifier and a fresh Python one, on the same records."""
    holder = federation.holder()
    return (
        verdicts(Verifier(holder, compiled=True), records),
        verdicts(Verifier(holder, compiled=False), records),
    )


def flipped(data: bytes, at: int) -> bytes:
    return data[:at] + bytes((data[at] ^ 0x01,)) + data[at + 1 :]


def tampered(record: Received) -> Iterator[Received]:
    """Each one-byte change of the record's key, value and header values, and malformed
    headers: repeated, renamed, emptied, of the former layout, missing."""
    key, value, headers = record
    for at in range(len(key)):
        yield flipped(key, at), value, headers
    for at in range(len(value)):
        yield key, flipped(value, at), headers
    for h, (name, header) in enumerate(headers):
        for at in range(len(header)):
            yield key, value, (*headers[:h], (name, flipped(header, at)), *headers[h + 1 :])
        yield key, value, (*headers, (name, header))  # repeated
        yield key, value, (*headers[:h], (name.upper(), header), *headers[h + 1 :])
        yield key, value, (*headers[:h], (name, b""), *headers[h + 1 :])
        yield key, value, (*headers[:h], *headers[h + 1 :])  # missing
    yield key, value, (*headers, ("sig_path", b"x"))
    yield key, value, (*headers[:-1], (SIGNATURE, headers[-1][1][:-32]))  # path cut short


def test_the_compiled_hashing_is_built_here() -> None:
    """``make setup`` builds it; without it the relay signs ~1 µs and the consumer checks ~7 µs
    a record slower, in Python."""
    assert native.load_settle() is not None, "run: python -m casesync.trust._native"
    assert native.load_signed_tree() is not None


@pytest.mark.parametrize("size", [1, 2, 3, 5, 127, 128, 129, 255, 256, 257, 600])
def test_compiled_signing_gives_python_s_headers_byte_for_byte(
    federation: Federation, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trees of every shape (odd levels, leaf indexes of two varint bytes, several trees) get
    the same signature headers compiled and in Python (Ed25519 signatures are deterministic)."""
    facts = record_facts(size)
    compiled = sign_batch(facts, federation.keys[RUDONG], NOW)
    monkeypatch.setattr(signing, "_SIGNED_TREE", None)
    assert compiled == sign_batch(facts, federation.keys[RUDONG], NOW)


def test_every_one_byte_change_and_malformed_header_gets_the_python_verdict(
    federation: Federation,
) -> None:
    """After a tree's records verified, each tampered copy of one of them is refused (or
    passed) by the compiled check exactly as by Python, class for class."""
    records = received(record_facts(300), federation)
    probes = [records[5], records[130], records[299]]  # both trees, indexes below and above 128
    changed = [variant for probe in probes for variant in tampered(probe)]
    compiled, python = both_ways(federation, records + changed)
    assert compiled == python
    assert compiled[: len(records)] == [None] * len(records)
    assert set(compiled[len(records) :]) >= {None, "BadSignature", "Unsigned"}


def test_records_of_two_batches_read_interleaved_get_the_python_verdicts(
    federation: Federation,
) -> None:
    """Records of two signed batches, read alternately and with a forged copy in between,
    verify the same way compiled and in Python."""
    first = received(record_facts(40), federation)
    second = received(record_facts(41)[1:], federation, at=NOW - timedelta(seconds=1))
    forged = (first[3][0], b"forged", first[3][2])
    mixed = [r for pair in zip(first, second, strict=True) for r in pair] + [forged]
    compiled, python = both_ways(federation, mixed)
    assert compiled == python
    assert compiled[-1] == "BadSignature"


def test_records_that_end_in_key_value_and_headers_are_read_as_the_consumer_holds_them(
    federation: Federation,
) -> None:
    """The consumer's records carry topic, partition and offset before key, value and
    headers; the check reads the last three, forged or not."""
    records = received(record_facts(20), federation)
    incoming = [("inbox", 0, offset, *r) for offset, r in enumerate(records)]
    incoming.append(("inbox", 0, 20, records[4][0], records[4][1] + b"!", records[4][2]))
    compiled, python = both_ways(federation, incoming)
    assert compiled == python == [None] * 20 + ["BadSignature"]


@pytest.mark.parametrize("compiled", [True, False])
def test_with_the_compiled_check_python_sees_only_the_first_record_of_each_tree(
    federation: Federation, compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compiled, Python looks at the records the check stops at (each tree's first, until its
    batch has passed); without it, at every record."""
    records = received(record_facts(512), federation)
    verifier = Verifier(federation.holder(), compiled=compiled)
    looked_at: list[int] = []
    original = verifier._batch_mate

    def counting(*args: Any) -> Any:
        looked_at.append(1)
        return original(*args)

    monkeypatch.setattr(verifier, "_batch_mate", counting)
    assert verifier.refusals(records, TONGXIANG, NOW) == [None] * 512
    assert len(looked_at) == (2 if compiled else 512)


def test_a_batch_mate_naming_another_source_is_refused_as_in_python(
    federation: Federation,
) -> None:
    """A region that signs, in one batch, its own record and a record naming another source:
    the second is refused (signer is not the source) after the first verified, compiled too."""
    own = record_facts(3)
    foreign = record_facts(3, source=SUZHOU)
    records = received([own[0], foreign[1], own[2]], federation)
    compiled, python = both_ways(federation, records)
    assert compiled == python == [None, "SignerNotSource", None]


@pytest.mark.parametrize("compiled", [True, False])
def test_a_batch_mate_read_when_its_signing_time_is_still_ahead_is_refused(
    federation: Federation, compiled: bool
) -> None:
    """The clock-skew check holds for batch-mates the compiled check reads, too."""
    records = received(record_facts(3), federation, NOW + timedelta(minutes=2))
    verifier = Verifier(federation.holder(), compiled=compiled)
    assert verifier.refusals(records[:1], TONGXIANG, NOW) == [None]
    later = verifier.refusals(records[1:], TONGXIANG, NOW - timedelta(minutes=10))
    assert [type(f).__name__ for f in later] == ["KeyNotValidThen"] * 2


def test_a_batch_mate_with_a_broken_path_and_a_repeated_header_gets_python_s_verdict(
    federation: Federation,
) -> None:
    """A batch-mate whose content is intact but whose path is garbage, with an uncovered
    header repeated: refused (bad signature) compiled and in Python alike."""
    records = received(record_facts(8), federation)
    key, value, headers = records[1]
    signature = headers[-1][1]
    end = signature[1]
    garbage = signature[: end + 1] + bytes(len(signature) - end - 1)
    repeated = (*headers[:-1], ("trace", b"a"), ("trace", b"b"), (SIGNATURE, garbage))
    compiled, python = both_ways(federation, [records[0], (key, value, repeated)])
    assert compiled == python == [None, "BadSignature"]


def test_a_batch_mate_whose_path_is_forged_where_it_joins_a_verified_neighbour_is_refused(
    federation: Federation,
) -> None:
    """The compiled check stops folding where a record's path joins the one proved before it
    only if the rest of its path is that one's: a sibling forged at, below or above the join,
    in order or backwards, is refused as in Python, and the intact records still pass."""
    records = received(record_facts(16), federation)
    forged = []
    for probe in (records[1], records[6], records[9]):
        key, value, headers = probe
        signature = headers[-1][1]
        for step in range(4):  # a tree of 16: four siblings, leaf to root
            at = len(signature) - (4 - step) * 32
            forged.append((key, value, (*headers[:-1], (SIGNATURE, flipped(signature, at)))))
    for order in (records, records[::-1], records[::3] + records[1::3] + records[2::3]):
        mixed = [r for pair in zip(order, forged[: len(order)], strict=False) for r in pair]
        compiled, python = both_ways(federation, mixed + order)
        assert compiled == python
        assert [v for v in compiled if v is not None] == ["BadSignature"] * len(forged)


def test_the_compiled_check_leaves_headers_it_cannot_hold_on_to_for_python(
    federation: Federation,
) -> None:
    """Headers that are not a tuple or list (an iterator) are not read by the compiled check:
    it stops at that record, and a start outside the records is refused."""
    settle = native.load_settle()
    assert settle is not None
    records = received(record_facts(2), federation)
    key, value, headers = records[0]
    odd = [(key, value, iter(headers))]
    assert settle(odd, 0, TONGXIANG.encode(), {}, None, None, 0) == 0
    with pytest.raises(IndexError):
        settle(odd, 2, TONGXIANG.encode(), {}, None, None, 0)


def test_compiled_signing_hashes_memoryviews_and_absent_keys_and_values_as_python_joins_them(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Leaf fields as the relay holds them (the value a memoryview of the outbox row) and as a
    record may have them (no key, no value) get the same headers compiled and in Python."""
    fields = [leaf_fields(f) for f in record_facts(4)]
    fields[0] = (*fields[0][:3], memoryview(bytes(fields[0][3] or b"")), *fields[0][4:])
    fields[1] = (*fields[1][:2], None, *fields[1][3:])
    fields[2] = (*fields[2][:3], None, *fields[2][4:])
    fields[3] = (*fields[3][:3], memoryview(b""), *fields[3][4:])
    key = federation.keys[RUDONG]
    compiled = signing.sign_leaves(fields, key, NOW)
    monkeypatch.setattr(signing, "_SIGNED_TREE", None)
    assert compiled == signing.sign_leaves(fields, key, NOW)


def test_the_compiled_tree_refuses_leaves_that_are_not_their_fields() -> None:
    """A joined leaf, a short tuple or a text field missing is a TypeError, never a header."""
    signed_tree = native.load_signed_tree()
    assert signed_tree is not None
    whole = leaf_fields(record_facts(1)[0])
    for leaves in (
        [b"leaf"],
        [whole[:6]],
        [(None, *whole[1:])],
        [(*whole[:4], "text", *whole[5:])],
    ):
        with pytest.raises(TypeError):
            signed_tree(leaves, lambda root: b"batch", SIGNATURE)  # type: ignore[arg-type]


def test_the_compiled_tree_refuses_a_batch_part_that_is_not_bytes() -> None:
    """A signer callback returning something else is a TypeError, never headers made of it."""
    signed_tree = native.load_signed_tree()
    assert signed_tree is not None
    with pytest.raises(TypeError):
        signed_tree([leaf_fields(record_facts(1)[0])], lambda root: None, SIGNATURE)  # type: ignore[arg-type,return-value]


def test_records_read_in_chunks_get_the_python_verdicts_wherever_a_forged_one_falls(
    federation: Federation,
) -> None:
    """The compiled check reads and hashes a few hundred records at a time: forged records at
    the first and last place of a chunk and deep in a later one are refused as in Python, and
    every intact record before and after them passes."""
    records = received(record_facts(900), federation)
    forged_at = [0, 255, 256, 511, 700, 899]
    mixed = list(records)
    for at in forged_at:
        key, value, headers = mixed[at]
        mixed[at] = (key, value + b"!", headers)
    compiled, python = both_ways(federation, mixed)
    assert compiled == python
    assert [i for i, v in enumerate(compiled) if v is not None] == forged_at


def test_records_whose_headers_are_lists_get_the_python_verdicts(federation: Federation) -> None:
    """Headers held in a list (which may change, so they are hashed with the GIL held) are
    proved the same way, over more than one chunk, a forged copy refused."""
    records = [(k, v, list(h)) for k, v, h in received(record_facts(600), federation)]
    forged = (records[300][0], records[300][1] + b"!", records[300][2])
    compiled, python = both_ways(federation, [*records[:400], forged, *records[400:]])
    assert compiled == python
    assert [i for i, v in enumerate(compiled) if v is not None] == [400]


def test_a_header_named_outside_ascii_is_left_to_python_with_the_same_verdict(
    federation: Federation,
) -> None:
    """A record carrying an extra header whose name is not ASCII is decided in Python, and
    verifies there as it would without the compiled check."""
    records = received(record_facts(40), federation)
    key, value, headers = records[20]
    records[20] = (key, value, (("título", b"x"), *headers))
    compiled, python = both_ways(federation, records)
    assert compiled == python == [None] * 40
