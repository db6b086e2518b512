"""Keys and a manifest for tests: every region signs, every process verifies.

Plain code (no pytest), used by the ``casesync_trust`` fixture of ``casesync.testing``. One root
key and one Ed25519 key per region of the shipped catalogue are made once per test session
(~0.1 ms each); the signed manifest lists them all, valid from a day ago for a year, the
manifest itself for 30 days. Tests that rotate, revoke or let the manifest expire write a new
manifest file with ``publish`` (or a folder of their own with ``TestTrust.create``).
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from casesync.settings import Settings
from casesync.trust.keys import PublicKeyEntry, SigningKey, new_signing_key, write_signing_key
from casesync.trust.manifest import Manifest, build_manifest, sign_manifest, signed_document
from casesync.trust.records import facts_from_record
from casesync.trust.signing import sign_batch

DAY = timedelta(days=1)
Record = tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]  # topic, key, value


@dataclass
class TestTrust:
    """A root key, a key per region, and the manifest file processes read."""

    __test__ = False  # not a test class

    folder: Path
    root: SigningKey
    keys: dict[str, SigningKey]
    version: int = 0

    @classmethod
    def create(cls, folder: Path, regions: Iterable[str]) -> TestTrust:
        """Keys for ``regions`` in ``folder``/keys and a first manifest listing them all."""
        (folder / "keys").mkdir(parents=True, exist_ok=True)
        trust = cls(folder, new_signing_key("root"), {r: new_signing_key(r) for r in regions})
        for key in trust.keys.values():
            write_signing_key(key, trust.key_dir)
        trust.publish(trust.entries())
        return trust

    @property
    def key_dir(self) -> Path:
        return self.folder / "keys"

    @property
    def manifest_file(self) -> Path:
        return self.folder / "manifest.json"

    @property
    def root_text(self) -> str:
        """The root public key as CASESYNC_TRUST_ROOT takes it."""
        return base64.b64encode(self.root.public_key).decode("ascii")

    def entries(self, now: datetime | None = None) -> list[PublicKeyEntry]:
        """Every region's key, valid from a day before ``now`` for a year."""
        start = (now or datetime.now(UTC)).replace(microsecond=0) - DAY
        return [key.entry(start, start + 365 * DAY) for key in self.keys.values()]

    def publish(
        self, entries: Sequence[PublicKeyEntry], expires_in: timedelta = 30 * DAY
    ) -> Manifest:
        """Write the next manifest version over ``entries`` to the manifest file."""
        self.version += 1
        issued = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
        manifest = build_manifest(self.version, issued - DAY, issued + expires_in, entries)
        document = signed_document(sign_manifest(manifest, self.root))
        self.manifest_file.write_text(json.dumps(document), encoding="utf-8")
        return manifest

    def environment(self) -> dict[str, str]:
        """The ``CASESYNC_*`` variables that make a process sign and verify with these keys."""
        return {
            "CASESYNC_SIGNING": "on",
            "CASESYNC_SIGNING_KEY_DIR": str(self.key_dir),
            "CASESYNC_TRUST_ROOT": self.root_text,
            "CASESYNC_TRUST_MANIFEST": str(self.manifest_file),
        }

    def apply_to(self, settings: Settings) -> Settings:
        """``settings`` signing and verifying with these keys."""
        return dataclasses.replace(
            settings,
            signing=True,
            signing_key_dir=self.key_dir,
            trust_root=self.root_text,
            trust_manifest_file=self.manifest_file,
        )

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
