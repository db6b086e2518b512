"""Verification of one record against the manifest in force.

Checks, in order, each failure its own ``VerificationFailed`` class (the dead-letter class):

1. signature headers present (``Unsigned``) and well formed (``BadSignature``);
2. the key listed in the manifest (``UnknownKey``), with the suite the header names;
3. the record's leaf folded along its path up to a root, whose statement signature verifies
   (``BadSignature``) — once per batch: the nodes of every verified path are remembered with the
   signature headers that proved them, and a later record whose path reaches one of them, under
   the same headers, needs no signature check and no further hashing;
4. the signer is the record's source region (``SignerNotSource``);
5. the key was valid at the signing time, and that time is not in the future
   (``KeyNotValidThen``).

The signing time is the one the signer stated (``sig_time``, covered by the signature). A stolen
key whose revocation is dated after the theft is refused only for times after ``revoked_at``:
date a revocation from the moment of compromise.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from casesync.trust.errors import BadSignature, KeyNotValidThen, SignerNotSource, Unsigned
from casesync.trust.headers import SignatureClaim, decode_path, read_signature, statement
from casesync.trust.holder import ManifestHolder
from casesync.trust.keys import PublicKeyEntry
from casesync.trust.suites import suite_named
from casesync.trust.tree import RecordFacts, fold_path, leaf_bytes

DEFAULT_MAX_CLOCK_SKEW = timedelta(minutes=5)
DEFAULT_REMEMBERED_NODES = 262_144  # ~25 MiB at most; forgotten all at once when full

_Proof = tuple[bytes, bytes, bytes, bytes]  # the suite, key, time and signature headers


class Verified(NamedTuple):
    """Who signed a verified record, and when."""

    region: str
    key_id: str
    signed_at: datetime


class Verifier:
    """Verifies records one by one, one signature check per batch."""

    def __init__(
        self,
        holder: ManifestHolder,
        max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
        remembered_nodes: int = DEFAULT_REMEMBERED_NODES,
    ) -> None:
        self.holder = holder
        self.max_clock_skew = max_clock_skew
        self._remembered_nodes = remembered_nodes
        self._proved: dict[bytes, _Proof] = {}  # tree node hash -> the headers that proved it
        self._public_keys: dict[str, Any] = {}  # key id -> the suite's public key object

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
        entry = self.holder.entry(key_id, now)
        if claim.suite != entry.suite.encode():
            raise BadSignature(f"sig_suite does not match key {key_id}'s suite {entry.suite}")
        self._check_proof(facts, claim, entry)
        if entry.region != facts.source_region:
            raise SignerNotSource(key_id, entry.region, facts.source_region)
        signed_at = datetime.fromtimestamp(int(claim.signed_at) / 1000, UTC)
        if signed_at > now + self.max_clock_skew:
            raise KeyNotValidThen(f"signed at {signed_at.isoformat()}, in the future")
        why_not = entry.why_not_valid_at(signed_at)
        if why_not is not None:
            raise KeyNotValidThen(f"signed at {signed_at.isoformat()}: {why_not}")
        return Verified(entry.region, key_id, signed_at)

    def _check_proof(
        self, facts: RecordFacts, claim: SignatureClaim, entry: PublicKeyEntry
    ) -> None:
        """Step 3: the record is in a tree whose root the claimed key signed."""
        suite = suite_named(entry.suite)
        try:
            index, size, siblings = decode_path(claim.path, suite.new_hash(b"").digest_size)
            leaf = suite.new_hash(leaf_bytes(facts)).digest()
            proved = self._proved
            folded = fold_path(leaf, index, size, siblings, suite.new_hash, proved)
            proof = (claim.suite, claim.key_id, claim.signed_at, claim.root_signature)
            if proved.get(folded.top) == proof:
                self._remember(folded.computed, proof)
                return
            if folded.top in proved:  # proved under other headers: fold on to this root
                folded = fold_path(leaf, index, size, siblings, suite.new_hash)
        except ValueError as e:
            raise BadSignature(f"inclusion path: {e}") from None
        signed = statement(claim.suite, claim.key_id, claim.signed_at, folded.top)
        if not suite.verify(self._public_key(entry), claim.root_signature, signed):
            raise BadSignature(
                f"the batch signature of key {entry.key_id} does not match this record"
            )
        self._remember([*folded.computed, folded.top], proof)

    def _public_key(self, entry: PublicKeyEntry) -> Any:
        public = self._public_keys.get(entry.key_id)
        if public is None:
            public = suite_named(entry.suite).load_public(entry.public_key)
            self._public_keys[entry.key_id] = public
        return public

    def _remember(self, nodes: list[bytes], proof: _Proof) -> None:
        if len(self._proved) + len(nodes) > self._remembered_nodes:
            self._proved.clear()
        for node in nodes:
            self._proved[node] = proof
