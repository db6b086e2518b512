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
from casesync.trust.records import facts_from_record
from casesync.trust.signing import sign_batch

Record = tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]  # topic, key, value


@dataclass
class TestTrust(LocalFederation):
    """A local federation that also signs records for tests."""

    __test__ = False  # not a test class

    def sign(self, records: Sequence[Record], source: str, target: str) -> None:
        """Add ``source``'s batch signature to ``records`` (all for ``target``'s inbox), as
        its relay would, over the headers they carry."""
        if not records:
            return
        facts = [
            facts_from_record(key, value, headers, target) for _, key, value, headers in records
        ]
        signatures = sign_batch(facts, self.keys[source], datetime.now(UTC))
        for (_, _, _, headers), signature in zip(records, signatures, strict=True):
            headers.extend(signature.headers)
