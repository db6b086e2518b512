"""Verification of one record against the manifest in force.

Checks, in order, each failure its own ``VerificationFailed`` class (the dead-letter class):

1. the signature header present (``Unsigned``) and well formed (``BadSignature``);
2. the key listed in the manifest (``UnknownKey``), with the suite the header names;
3. the record's leaf folded along its whole path up to a root, whose statement signature
   verifies (``BadSignature``) — once per batch: the root a batch part's signature held for is
   remembered, and a later record with that batch part whose path folds to it needs no
   signature check;
4. the signer is the record's source region (``SignerNotSource``);
5. the key was valid at the signing time, and that time is not in the future
   (``KeyNotValidThen``).

The signing time is the one the signer stated (in the signature header, covered by it). A stolen
key whose revocation is dated after the theft is refused only for times after ``revoked_at``:
date a revocation from the moment of compromise.

``verify_received`` takes a record as read (key, value, Kafka headers), ``refusals`` a batch of
them (what the consumer calls per poll): once a record of a signed batch has passed every check,
the outcome of steps 2, 4 and 5 is the same for its batch-mates under the same manifest, so they
need only their own leaf hashed and folded to the batch's root. Anything else takes the full
path above. Either way a record's verdict depends on the record alone (and the manifest in
force), never on which records were read before it. ``refusals`` runs the batch-mate check
compiled (``casesync.trust.native``) when it is built, and in Python otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from casesync.trust.errors import (
    BadSignature,
    KeyNotValidThen,
    SignerNotSource,
    UnknownKey,
    Unsigned,
    VerificationFailed,
)
from casesync.trust.headers import (
    EVENT_ID,
    EVENT_TYPE,
    FINGERPRINT,
    SIGNATURE,
    SOURCE_REGION,
    SignatureClaim,
    batch_part_length,
    read_signature,
    read_varint,
    statement,
)
from casesync.trust.holder import ManifestHolder
from casesync.trust.keys import PublicKeyEntry
from casesync.trust.manifest import Manifest
from casesync.trust.native import load_settle
from casesync.trust.records import facts_from_record, fingerprint_of
from casesync.trust.suites import ED25519, Suite, suite_named
from casesync.trust.tree import RecordFacts, encoded_leaf, fold_path, leaf_bytes

DEFAULT_MAX_CLOCK_SKEW = timedelta(minutes=5)
_REMEMBERED_BATCHES = 4096  # batches that passed every check; forgotten all at once when full
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_COMPILED_SETTLE = load_settle()  # None when not built here: see casesync.trust.native
_SHA256_SUITE = suite_named(ED25519)  # the compiled check hashes with SHA-256 only

# A record as read: a tuple that ends in its key, value and headers (such as the consumer's).
Received = tuple[Any, ...]
_Proof = bytes  # a signature header's batch part: its suite, key, time, signature and tree size


def _epoch_us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


class Verified(NamedTuple):
    """Who signed a verified record, and when."""

    region: str
    key_id: str
    signed_at: datetime


@dataclass(frozen=True, slots=True)
class _PassedBatch:
    """A batch one record of which passed every check under ``manifest``: what holds for all
    its records while that manifest is in force."""

    manifest: Manifest
    suite: Suite
    source: bytes  # the signer's region: every record's source_region header must say it
    size: int  # the tree's, as the batch part states it
    not_before_us: int  # µs since the epoch: earlier, the signing time lies too far ahead
    root: bytes  # the tree's, which the batch's signature holds for
    verified: Verified


class Verifier:
    """Verifies records one by one, one signature check per batch."""

    def __init__(
        self,
        holder: ManifestHolder,
        max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
        compiled: bool = True,
    ) -> None:
        self.holder = holder
        self.max_clock_skew = max_clock_skew
        self._passed: dict[bytes, _PassedBatch] = {}  # by the batch part of their headers
        self._signed_roots: dict[_Proof, bytes] = {}  # batch part -> the root its signature holds
        self._public_keys: dict[str, Any] = {}  # key id -> the suite's public key object
        self._settle = _COMPILED_SETTLE if compiled else None  # None: Python checks every record

    def verify_received(
        self,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes | None]],
        target_region: str,
        now: datetime,
    ) -> Verified:
        """Verify a record as read from ``target_region``'s inbox: what ``verify`` of its
        ``facts_from_record`` says, at the cost of its leaf hash and path fold for most records
        of a batch."""
        manifest = self.holder.current(now)
        passed = self._batch_mate(
            key, value, headers, target_region.encode(), manifest, _epoch_us(now)
        )
        if passed is not None:
            return passed.verified
        return self.verify(facts_from_record(key, value, headers, target_region), headers, now)

    def refusals(
        self, records: Sequence[Received], target_region: str, now: datetime
    ) -> list[VerificationFailed | None]:
        """``verify_received`` of each record, read from ``target_region``'s inbox: None where
        it verifies, else why not. ``NoTrustedManifest`` when no manifest is in force (then no
        record is checked). One call per batch of records saves the per-record set-up.

        With the compiled check, runs of batch-mates are proved in C and Python takes each
        record it stops at (the first of a batch not seen yet, for one), then hands back."""
        manifest = self.holder.current(now)
        records = records if isinstance(records, list) else list(records)
        target = target_region.encode()
        failures: list[VerificationFailed | None] = [None] * len(records)
        settle, now_us = self._settle, _epoch_us(now)
        at, count = 0, len(records)
        while at < count:
            if settle is not None:
                at = settle(records, at, target, self._passed, manifest, _SHA256_SUITE, now_us)
                if at >= count:
                    break
            key, value, headers = records[at][-3:]
            if self._batch_mate(key, value, headers, target, manifest, now_us) is None:
                try:
                    self.verify(facts_from_record(key, value, headers, target_region), headers,
                                now)  # fmt: skip
                except VerificationFailed as e:
                    failures[at] = e
            at += 1
        return failures

    def _batch_mate(
        self,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes | None]],
        target: bytes,
        manifest: Manifest,
        now_us: int,
    ) -> _PassedBatch | None:
        """The batch of the record read from ``target``'s inbox when a batch-mate passed every
        check under ``manifest`` (the one in force) and its leaf folds along its path to the
        batch's signed root; None when ``verify`` must say."""
        found = dict(headers)
        if len(found) != len(headers) or key is None or value is None:
            return None  # a repeated header name, or no key or value: the full checks decide
        raw = found.get(SIGNATURE)
        if not raw:
            return None
        end = batch_part_length(raw)
        passed = self._passed.get(raw[:end]) if end else None
        if passed is None or passed.manifest is not manifest or now_us < passed.not_before_us:
            return None
        source, event_id, event_type = (
            found.get(SOURCE_REGION), found.get(EVENT_ID), found.get(EVENT_TYPE)
        )  # fmt: skip
        if source != passed.source or event_id is None or event_type is None:
            return None
        fingerprint = fingerprint_of(found.get(FINGERPRINT))
        hasher = passed.suite.new_hash
        leaf = hasher(encoded_leaf(source, target, key, value, fingerprint, event_id,
                                   event_type)).digest()  # fmt: skip
        try:
            index, at = read_varint(raw, end)
            root = fold_path(leaf, index, passed.size, raw[at:], hasher)
        except (IndexError, ValueError):
            return None
        return passed if root == passed.root else None

    def verify(
        self, facts: RecordFacts, headers: Iterable[tuple[str, bytes | None]], now: datetime
    ) -> Verified:
        """Verify one record; raise the ``VerificationFailed`` subclass that says why not, or
        ``NoTrustedManifest`` when no manifest is in force at ``now``.

        ``headers`` are the record's Kafka headers, ``(name, bytes)`` pairs; ``facts`` come from
        ``facts_from_record``.
        """
        try:
            claim = read_signature(headers)
        except ValueError as e:
            raise BadSignature(str(e)) from None
        if claim is None:
            raise Unsigned()
        key_id = claim.key_id.decode("ascii", "replace")
        manifest = self.holder.current(now)
        entry = manifest.by_id.get(key_id)
        if entry is None:
            raise UnknownKey(key_id)
        if claim.suite != entry.suite.encode():
            raise BadSignature(f"the signature's suite does not match key {key_id}'s {entry.suite}")
        proof = claim.batch
        root = self._check_proof(facts, claim, entry, proof)
        if entry.region != facts.source_region:
            raise SignerNotSource(key_id, entry.region, facts.source_region)
        signed_at = datetime.fromtimestamp(int(claim.signed_at) / 1000, UTC)
        if signed_at > now + self.max_clock_skew:
            raise KeyNotValidThen(f"signed at {signed_at.isoformat()}, in the future")
        why_not = entry.why_not_valid_at(signed_at)
        if why_not is not None:
            raise KeyNotValidThen(f"signed at {signed_at.isoformat()}: {why_not}")
        verified = Verified(entry.region, key_id, signed_at)
        if len(self._passed) >= _REMEMBERED_BATCHES:
            self._passed.clear()
        self._passed[proof] = _PassedBatch(
            manifest, suite_named(entry.suite), entry.region.encode(), claim.tree_size,
            _epoch_us(signed_at - self.max_clock_skew), root, verified,
        )  # fmt: skip
        return verified

    def _check_proof(
        self, facts: RecordFacts, claim: SignatureClaim, entry: PublicKeyEntry, proof: _Proof
    ) -> bytes:
        """Step 3: the record is in a tree whose root the claimed key signed; that root."""
        suite = suite_named(entry.suite)
        try:
            leaf = suite.new_hash(leaf_bytes(facts)).digest()
            root = fold_path(leaf, claim.leaf_index, claim.tree_size, claim.path, suite.new_hash)
        except ValueError as e:
            raise BadSignature(f"inclusion path: {e}") from None
        if self._signed_roots.get(proof) != root:  # a batch sent twice is checked once
            signed = statement(claim.suite, claim.key_id, claim.signed_at, claim.tree_size, root)
            if not suite.verify(self._public_key(entry), claim.root_signature, signed):
                raise BadSignature(
                    f"the batch signature of key {entry.key_id} does not match this record"
                )
            if len(self._signed_roots) >= _REMEMBERED_BATCHES:
                self._signed_roots.clear()
            self._signed_roots[proof] = root
        return root

    def _public_key(self, entry: PublicKeyEntry) -> Any:
        public = self._public_keys.get(entry.key_id)
        if public is None:
            public = suite_named(entry.suite).load_public(entry.public_key)
            self._public_keys[entry.key_id] = public
        return public
