"""Keys and a manifest for tests: every region signs, every process verifies.

Plain code (no pytest), used by the ``casesync_trust`` fixture of ``casesync.testing``: a
``LocalFederation`` (one root key, an Ed25519 key per region of the shipped catalogue, made once
per test session) that can also sign records as a region's relay would. Tests that rotate,
revoke or let the manifest expire write a new manifest file with ``publish``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from casesync.trust.federation import LocalFederation
from casesync.trust.keys import SigningKey
from casesync.trust.records import facts_from_record
from casesync.trust.signing import sign_batch

Record = tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]  # topic, key, value


@dataclass
class TestTrust(LocalFederation):
    """A local federation that also signs records for tests."""

    __test__ = False  # not a test class

    def sign(
        self,
        records: Sequence[Record],
        source: str,
        target: str,
        *,
        key: SigningKey | None = None,
        at: datetime | None = None,
    ) -> None:
        """Add ``source``'s batch signature to ``records`` (all for ``target``'s inbox), as
        its relay would, over the headers they carry: made with ``key`` (default: the region's
        key here) at ``at`` (default: now), so tests can sign with a rotated or revoked key at
        any time they claim."""
        if not records:
            return
        facts = [facts_from_record(k, v, headers, target) for _, k, v, headers in records]
        signer = key or self.keys[source]
        signatures = sign_batch(facts, signer, at or datetime.now(UTC))
        for (_, _, _, headers), signature in zip(records, signatures, strict=True):
            headers.append(signature)
