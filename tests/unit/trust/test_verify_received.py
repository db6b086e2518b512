"""Verifying records as read: batch-mates of a verified record are cheap, never more lenient."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from casesync.trust.errors import (
    BadSignature,
    KeyNotValidThen,
    NoTrustedManifest,
    TrustError,
    VerificationFailed,
)
from casesync.trust.headers import EVENT_ID, EVENT_TYPE, FINGERPRINT, SIGNATURE, SOURCE_REGION
from casesync.trust.holder import ManifestHolder
from casesync.trust.manifest import sign_manifest, successor
from casesync.trust.records import facts_from_record
from casesync.trust.signing import LEAVES_PER_TREE, sign_batch
from casesync.trust.tree import RecordFacts
from casesync.trust.verify import Verifier

from .conftest import DAY, NOW, RUDONG, TONGXIANG, Federation, record_facts

Headers = tuple[tuple[str, bytes], ...]
Received = tuple[bytes, bytes, Headers]  # key, value, headers as a consumer reads them


def received(facts: list[RecordFacts], federation: Federation, at: object = NOW) -> list[Received]:
    """``facts`` as the relay sends them: its headers, then the signature header."""
    signatures = sign_batch(facts, federation.keys[RUDONG], at)  # type: ignore[arg-type]
    return [
        (
            f.key or b"",
            f.value or b"",
            (
                (EVENT_ID, f.event_id.encode()),
                (EVENT_TYPE, f.event_type.encode()),
                (FINGERPRINT, f.fingerprint.hex().encode()),
                (SOURCE_REGION, f.source_region.encode()),
                ("target_region", f.target_region.encode()),
                s,
            ),
        )
        for f, s in zip(facts, signatures, strict=True)
    ]


def outcome(verify: Callable[[], object]) -> str:
    """The class of what verification says: Verified, or the error raised."""
    try:
        return type(verify()).__name__
    except TrustError as e:
        return type(e).__name__


@pytest.mark.parametrize("size", [1, 2, 3, 7, 100, LEAVES_PER_TREE, LEAVES_PER_TREE + 1, 1000])
def test_a_batch_read_in_order_verifies_with_one_signature_check_per_tree(
    federation: Federation, signature_checks: list[int], size: int
) -> None:
    """Every record of a batch verifies as its signer's, and each tree of the batch (one per
    LEAVES_PER_TREE records) costs one check."""
    verifier = federation.verifier()
    before = len(signature_checks)
    for key, value, headers in received(record_facts(size), federation):
        verified = verifier.verify_received(key, value, headers, TONGXIANG, NOW)
        assert (verified.region, verified.key_id) == (RUDONG, federation.keys[RUDONG].key_id)
    assert len(signature_checks) - before == -(-size // LEAVES_PER_TREE)


def test_a_batch_sent_twice_is_checked_once(
    federation: Federation, signature_checks: list[int]
) -> None:
    """The same signed batch read again (a redelivery) needs no second signature check."""
    records = received(record_facts(20), federation)
    verifier = Verifier(federation.holder())
    before = len(signature_checks)
    for key, value, headers in records + records:
        verifier.verify_received(key, value, headers, TONGXIANG, NOW)
    assert len(signature_checks) - before == 1


def _changed(name: str) -> Callable[[Received], Received]:
    def change(record: Received) -> Received:
        key, value, headers = record
        return key, value, tuple((n, b"0" + v if n == name else v) for n, v in headers)

    return change


def _last_byte_flipped(name: str) -> Callable[[Received], Received]:
    def change(record: Received) -> Received:
        key, value, headers = record
        flipped = tuple((n, v[:-1] + bytes([v[-1] ^ 1]) if n == name else v) for n, v in headers)
        return key, value, flipped

    return change


CHANGES: dict[str, Callable[[Received], Received]] = {
    "value": lambda r: (r[0], r[1][:-1] + bytes([r[1][-1] ^ 1]), r[2]),
    "key": lambda r: (r[0] + b"X", r[1], r[2]),
    "source header": _changed(SOURCE_REGION),
    "event id header": _changed(EVENT_ID),
    "event type header": _changed(EVENT_TYPE),
    "fingerprint header": _changed(FINGERPRINT),
    "signature header repeated": lambda r: (r[0], r[1], (*r[2], r[2][-1])),
    "signature header removed": lambda r: (r[0], r[1], r[2][:-1]),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_changed_record_fails_as_the_full_checks_say_after_its_batch_mates_verified(
    federation: Federation, change: str
) -> None:
    """After the rest of its batch verified, a changed record is refused with the same class
    as a fresh verifier's full checks give it."""
    records = received(record_facts(9), federation)
    verifier = federation.verifier()
    for key, value, headers in records[:4] + records[5:]:
        verifier.verify_received(key, value, headers, TONGXIANG, NOW)
    key, value, headers = CHANGES[change](records[4])
    fresh = federation.verifier()
    expected = outcome(
        lambda: fresh.verify(facts_from_record(key, value, headers, TONGXIANG), headers, NOW)
    )
    assert expected in {"BadSignature", "SignerNotSource", "Unsigned"}
    with pytest.raises(VerificationFailed) as refused:
        verifier.verify_received(key, value, headers, TONGXIANG, NOW)
    assert type(refused.value).__name__ == expected


def test_a_record_with_a_damaged_path_is_refused_whatever_was_read_before(
    federation: Federation,
) -> None:
    """Its content is a verified batch-mate's sibling, yet one byte of its own path changed
    refuses it, as a fresh verifier does: a verdict depends on the record, not on history."""
    records = received(record_facts(4), federation)
    verifier = federation.verifier()
    verifier.verify_received(*records[0], TONGXIANG, NOW)
    key, value, headers = _last_byte_flipped(SIGNATURE)(records[1])  # in its path
    with pytest.raises(BadSignature):
        verifier.verify_received(key, value, headers, TONGXIANG, NOW)
    with pytest.raises(BadSignature):
        federation.verifier().verify_received(key, value, headers, TONGXIANG, NOW)


def test_a_record_read_from_another_inbox_fails_after_its_batch_mates_verified(
    federation: Federation,
) -> None:
    """The inbox a record is read from is part of its leaf, also for a cheap batch-mate."""
    records = received(record_facts(4), federation)
    verifier = federation.verifier()
    for key, value, headers in records[:3]:
        verifier.verify_received(key, value, headers, TONGXIANG, NOW)
    key, value, headers = records[3]
    with pytest.raises(BadSignature):
        verifier.verify_received(key, value, headers, "320500", NOW)


def test_a_new_manifest_is_obeyed_by_batch_mates(federation: Federation) -> None:
    """A revocation taking effect mid-batch refuses the rest of the batch; an expired
    manifest lets nothing through."""
    records = received(record_facts(6), federation, NOW)
    holder = federation.holder()
    verifier = Verifier(holder)
    for key, value, headers in records[:2]:
        verifier.verify_received(key, value, headers, TONGXIANG, NOW)
    key_id = federation.keys[RUDONG].key_id
    revoked = successor(federation.manifest(), NOW, 30 * DAY, revoke={key_id: NOW})
    holder.offer(sign_manifest(revoked, federation.root), NOW)
    key, value, headers = records[2]
    with pytest.raises(KeyNotValidThen, match="revoked"):
        verifier.verify_received(key, value, headers, TONGXIANG, NOW)
    expired = Verifier(ManifestHolder(federation.root_public))
    expired.holder.offer(federation.signed(), NOW)
    expired.verify_received(*records[3], TONGXIANG, NOW)
    with pytest.raises(NoTrustedManifest):
        expired.verify_received(*records[4], TONGXIANG, NOW + 31 * DAY)


def test_a_batch_mate_read_when_its_signing_time_is_still_ahead_is_refused(
    federation: Federation,
) -> None:
    """The clock-skew check holds for every record, not only the first of a batch."""
    records = received(record_facts(3), federation, NOW + timedelta(minutes=2))
    verifier = federation.verifier()
    verifier.verify_received(*records[0], TONGXIANG, NOW)
    with pytest.raises(KeyNotValidThen, match="future"):
        verifier.verify_received(*records[1], TONGXIANG, NOW - timedelta(minutes=10))
