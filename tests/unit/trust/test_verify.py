"""Batch signing and verification: each record verifies alone, and every change is caught."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casesync.trust.errors import (
    BadSignature,
    KeyNotValidThen,
    NoTrustedManifest,
    SignerNotSource,
    UnknownKey,
    Unsigned,
)
from casesync.trust.headers import (
    EVENT_ID,
    EVENT_TYPE,
    FINGERPRINT,
    SIGNATURE,
    SOURCE_REGION,
    batch_part,
    parse_signature,
    varint,
)
from casesync.trust.keys import SigningKey, new_signing_key
from casesync.trust.manifest import successor
from casesync.trust.records import facts_from_record
from casesync.trust.signing import LEAVES_PER_TREE, sign_batch
from casesync.trust.tree import RecordFacts

from .conftest import DAY, NOW, RUDONG, SUZHOU, TONGXIANG, Federation, record_facts

HOUR = timedelta(hours=1)
Headers = tuple[tuple[str, bytes], ...]


def signed(facts: list[RecordFacts], key: SigningKey, at: object = NOW) -> list[Headers]:
    return [(sig,) for sig in sign_batch(facts, key, at)]  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [1, 2, 7, 100])
def test_each_record_of_a_batch_verifies_alone(federation: Federation, size: int) -> None:
    """A fresh verifier per record (as if the rest of the batch never arrived) accepts each."""
    facts = record_facts(size)
    for one, headers in zip(facts, signed(facts, federation.keys[RUDONG]), strict=True):
        verified = federation.verifier().verify(one, headers, NOW)
        assert verified.region == RUDONG
        assert verified.key_id == federation.keys[RUDONG].key_id


def test_one_signature_check_per_batch(federation: Federation, signature_checks: list[int]) -> None:
    """Two batches of 50, records interleaved: two signature checks in all."""
    first, second = record_facts(50), record_facts(100)[50:]
    key = federation.keys[RUDONG]
    verifier = federation.verifier()
    pairs = list(zip(first, signed(first, key), strict=True))
    pairs += list(zip(second, signed(second, key, NOW + HOUR), strict=True))
    before = len(signature_checks)  # the manifest's own check
    for one, headers in sorted(pairs, key=lambda p: p[0].event_id[-1]):
        verifier.verify(one, headers, NOW + HOUR)
    assert len(signature_checks) - before == 2


COVERED_CHANGES = {
    "value": lambda f: f._replace(value=f.value[:-1] + bytes([f.value[-1] ^ 1])),
    "key": lambda f: f._replace(key=f.key[:-1] + b"X"),
    "source": lambda f: f._replace(source_region=RUDONG[:-1] + "4"),
    "target": lambda f: f._replace(target_region=SUZHOU),
    "fingerprint": lambda f: f._replace(fingerprint=bytes(8)),
    "event id": lambda f: f._replace(event_id=f.event_id + "0"),
    "event type": lambda f: f._replace(event_type="CaseClosed"),
}


@pytest.mark.parametrize("change", COVERED_CHANGES)
@pytest.mark.parametrize("warm", [False, True], ids=["fresh", "warm"])
def test_a_changed_covered_field_is_a_bad_signature(
    federation: Federation, change: str, warm: bool
) -> None:
    """One changed byte in any covered field fails, also after its batch-mates verified."""
    facts = record_facts(9)
    headers = signed(facts, federation.keys[RUDONG])
    verifier = federation.verifier()
    if warm:
        for one, h in zip(facts[:4] + facts[5:], headers[:4] + headers[5:], strict=True):
            verifier.verify(one, h, NOW)
    with pytest.raises(BadSignature):
        verifier.verify(COVERED_CHANGES[change](facts[4]), headers[4], NOW)  # type: ignore[no-untyped-call]


def _with(headers: Headers, **changed: object) -> Headers:
    """The signature header rebuilt with some of its fields changed."""
    claim = parse_signature(dict(headers)[SIGNATURE])._asdict()
    claim.update(changed)
    batch = batch_part(claim["suite"], claim["key_id"], claim["signed_at"],
                       claim["root_signature"], claim["tree_size"])  # fmt: skip
    return ((SIGNATURE, batch + varint(claim["leaf_index"]) + claim["path"]),)


def _flipped(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 1])


SIGNATURE_CHANGES = {
    "suite": lambda c: {"suite": _flipped(c.suite)},
    "time": lambda c: {"signed_at": str(int(c.signed_at) + 1).encode()},
    "root signature": lambda c: {"root_signature": _flipped(c.root_signature)},
    "tree size": lambda c: {"tree_size": c.tree_size + 1},
    "leaf index": lambda c: {"leaf_index": c.leaf_index + 1},
    "path": lambda c: {"path": _flipped(c.path)},
}


@pytest.mark.parametrize("field", SIGNATURE_CHANGES)
def test_a_changed_signature_field_is_a_bad_signature(federation: Federation, field: str) -> None:
    """Each field of the signature header changed fails (the key: see the next test)."""
    facts = record_facts(9)
    headers = signed(facts, federation.keys[RUDONG])[4]
    claim = parse_signature(headers[0][1])
    changed = _with(headers, **SIGNATURE_CHANGES[field](claim))  # type: ignore[no-untyped-call]
    with pytest.raises(BadSignature):
        federation.verifier().verify(facts[4], changed, NOW)


def test_a_changed_key_header_is_an_unknown_key_or_a_bad_signature(
    federation: Federation,
) -> None:
    """Another id is unknown, or (another listed key) its signature does not match."""
    facts = record_facts(3)
    headers = signed(facts, federation.keys[RUDONG])[1]
    other = federation.keys[TONGXIANG].key_id.encode()
    for replacement, error in ((b"0" * 16, UnknownKey), (other, BadSignature)):
        changed = _with(headers, key_id=replacement)
        with pytest.raises(error):
            federation.verifier().verify(facts[1], changed, NOW)


def test_covered_record_headers_are_read_into_the_facts(federation: Federation) -> None:
    """facts_from_record takes source, event id, type and fingerprint from the relay's headers:
    changing any of them on the wire fails verification."""
    one = record_facts(1)[0]
    relay_headers = (
        (EVENT_ID, one.event_id.encode()),
        (EVENT_TYPE, one.event_type.encode()),
        (FINGERPRINT, one.fingerprint.hex().encode()),
        (SOURCE_REGION, one.source_region.encode()),
    )
    headers = relay_headers + signed([one], federation.keys[RUDONG])[0]
    received = facts_from_record(one.key, one.value, headers, TONGXIANG)
    assert received == one
    federation.verifier().verify(received, headers, NOW)
    for name in (EVENT_ID, EVENT_TYPE, FINGERPRINT, SOURCE_REGION):
        changed = tuple((n, b"0" + v if n == name else v) for n, v in headers)
        with pytest.raises(BadSignature):
            federation.verifier().verify(
                facts_from_record(one.key, one.value, changed, TONGXIANG), changed, NOW
            )


def test_an_unsigned_record_and_a_malformed_signature_are_refused(federation: Federation) -> None:
    """No signature header: Unsigned; a truncated, repeated or unknown-layout one, or headers of
    the former five-header layout: BadSignature."""
    one = record_facts(1)[0]
    with pytest.raises(Unsigned):
        federation.verifier().verify(one, (), NOW)
    ((name, raw),) = signed([one], federation.keys[RUDONG])[0]
    for malformed in (
        ((name, raw[:20]),),
        ((name, raw), (name, raw)),
        ((name, b"\x02" + raw[1:]),),
        (("sig_root", raw[3:67]),),
    ):
        with pytest.raises(BadSignature):
            federation.verifier().verify(one, malformed, NOW)


def test_a_region_signing_another_regions_case_is_refused(federation: Federation) -> None:
    """Tongxiang's valid key over events whose source is Rudong: SignerNotSource."""
    facts = record_facts(3, source=RUDONG)
    headers = signed(facts, federation.keys[TONGXIANG])
    with pytest.raises(SignerNotSource):
        federation.verifier().verify(facts[0], headers[0], NOW)


def test_a_key_the_manifest_does_not_list_is_unknown(federation: Federation) -> None:
    """A well-formed signature by an unlisted Rudong key: UnknownKey."""
    facts = record_facts(2)
    headers = signed(facts, new_signing_key(RUDONG))
    with pytest.raises(UnknownKey):
        federation.verifier().verify(facts[0], headers[0], NOW)


def test_a_key_outside_its_window_or_from_the_future_is_not_valid_then(
    federation: Federation,
) -> None:
    """Signed before the window opens, after it closes, or dated ahead of now: refused."""
    key = federation.keys[RUDONG]
    late = federation.manifest(entries=[key.entry(NOW + DAY, NOW + 10 * DAY)])
    early = federation.manifest(entries=[key.entry(NOW - 10 * DAY, NOW - DAY)])
    facts = record_facts(2)
    for manifest, at in ((late, NOW), (early, NOW)):
        with pytest.raises(KeyNotValidThen):
            federation.verifier(manifest).verify(facts[0], signed(facts, key, at)[0], NOW)
    with pytest.raises(KeyNotValidThen, match="future"):
        federation.verifier().verify(facts[0], signed(facts, key, NOW + HOUR)[0], NOW)


def test_rotation_a_new_key_announced_ahead_and_the_old_one_verifying_until_it_closes(
    federation: Federation,
) -> None:
    """The new key is listed before its first use; the old key's records still verify while
    its window lasts; past it, the old key is refused and the new one accepted."""
    old, new = federation.keys[RUDONG], new_signing_key(RUDONG)
    manifest = federation.manifest(
        entries=[old.entry(NOW - 30 * DAY, NOW + 2 * DAY), new.entry(NOW + DAY, NOW + 400 * DAY)]
    )
    facts = record_facts(4)
    verifier = federation.verifier(manifest)
    verifier.verify(facts[0], signed(facts, old, NOW)[0], NOW + 1.5 * DAY)
    verifier.verify(facts[1], signed(facts, new, NOW + 1.5 * DAY)[1], NOW + 1.5 * DAY)
    with pytest.raises(KeyNotValidThen):
        verifier.verify(facts[2], signed(facts, new, NOW)[2], NOW)  # before announced use
    with pytest.raises(KeyNotValidThen):
        verifier.verify(facts[3], signed(facts, old, NOW + 3 * DAY)[3], NOW + 3 * DAY)


def test_revocation_refuses_signatures_from_its_time_on_and_keeps_earlier_ones(
    federation: Federation,
) -> None:
    """Revoked at NOW: a batch signed an hour before still verifies, one a minute after not."""
    key = federation.keys[RUDONG]
    revoked = successor(federation.manifest(), NOW, 30 * DAY, revoke={key.key_id: NOW})
    verifier = federation.verifier(revoked)
    facts = record_facts(2)
    later = NOW + HOUR
    assert verifier.verify(facts[0], signed(facts, key, NOW - HOUR)[0], later).region == RUDONG
    with pytest.raises(KeyNotValidThen, match="revoked"):
        verifier.verify(facts[1], signed(facts, key, NOW + timedelta(minutes=1))[1], later)


def test_with_an_expired_manifest_nothing_verifies(federation: Federation) -> None:
    """Past the manifest's expiry even a good record is not accepted: NoTrustedManifest."""
    facts = record_facts(1)
    verifier = federation.verifier()
    with pytest.raises(NoTrustedManifest):
        verifier.verify(facts[0], signed(facts, federation.keys[RUDONG])[0], NOW + 31 * DAY)


def test_a_batch_longer_than_a_tree_is_signed_in_trees_of_leaves_per_tree(
    federation: Federation,
) -> None:
    """600 records: trees of 256, 256 and 88, each with its own signature, every record
    verifying alone."""
    facts = record_facts(600)
    headers = signed(facts, federation.keys[RUDONG])
    claims = [parse_signature(h[0][1]) for h in headers]
    assert [c.tree_size for c in claims[::LEAVES_PER_TREE]] == [256, 256, 88]
    assert len({c.root_signature for c in claims}) == 3
    assert [c.leaf_index for c in claims[250:260]] == [250, 251, 252, 253, 254, 255, 0, 1, 2, 3]
    for one, h in zip(facts[::97], headers[::97], strict=True):
        assert federation.verifier().verify(one, h, NOW).region == RUDONG
