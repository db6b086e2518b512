"""A small federation for trust tests: a root key, two regions' keys, a manifest, records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from casesync.trust.holder import ManifestHolder
from casesync.trust.keys import PublicKeyEntry, RootPublicKey, SigningKey, new_signing_key
from casesync.trust.manifest import Manifest, SignedManifest, build_manifest, sign_manifest
from casesync.trust.suites import Suite
from casesync.trust.tree import RecordFacts
from casesync.trust.verify import Verifier

RUDONG, TONGXIANG, SUZHOU = "320623", "330483", "320500"
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def record_facts(n: int, source: str = RUDONG, target: str = TONGXIANG) -> list[RecordFacts]:
    """``n`` distinct records from ``source`` addressed to ``target``."""
    return [
        RecordFacts(
            source,
            target,
            f"{source}-case-{i}".encode(),
            b"\xc3\x01" + bytes(8) + f"value {i} 张三".encode(),
            bytes(range(8)),
            f"evt-{i:06d}",
            "CaseSubmitted",
        )
        for i in range(n)
    ]


@dataclass
class Federation:
    """Keys of two regions and the root, and manifests over them."""

    root: SigningKey = field(default_factory=lambda: new_signing_key("root"))
    keys: dict[str, SigningKey] = field(
        default_factory=lambda: {r: new_signing_key(r) for r in (RUDONG, TONGXIANG)}
    )

    @property
    def root_public(self) -> RootPublicKey:
        return RootPublicKey(self.root.suite, self.root.public_key)

    def entry(self, region: str) -> PublicKeyEntry:
        """``region``'s key, valid from a month ago for a year."""
        return self.keys[region].entry(NOW - 30 * DAY, NOW + 365 * DAY)

    def manifest(
        self,
        version: int = 1,
        entries: list[PublicKeyEntry] | None = None,
        expires_at: datetime = NOW + 30 * DAY,
    ) -> Manifest:
        chosen = [self.entry(r) for r in self.keys] if entries is None else entries
        return build_manifest(version, NOW - DAY, expires_at, chosen)

    def signed(self, manifest: Manifest | None = None) -> SignedManifest:
        return sign_manifest(manifest or self.manifest(), self.root)

    def holder(self, manifest: Manifest | None = None) -> ManifestHolder:
        holder = ManifestHolder(self.root_public)
        holder.offer(self.signed(manifest), NOW)
        return holder

    def verifier(self, manifest: Manifest | None = None) -> Verifier:
        return Verifier(self.holder(manifest))


@pytest.fixture
def federation() -> Federation:
    return Federation()


@pytest.fixture
def make_facts() -> Callable[..., list[RecordFacts]]:
    return record_facts


@pytest.fixture
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts signature verifications."""
    calls: list[int] = []
    original = Suite.verify

    def counting(self: Suite, public: object, signature: bytes, message: bytes) -> bool:
        calls.append(1)
        return original(self, public, signature, message)  # type: ignore[arg-type]

    monkeypatch.setattr(Suite, "verify", counting)
    return calls
