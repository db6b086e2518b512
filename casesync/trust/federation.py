"""A whole federation's trust on one machine: a root key, a key per region, a signed manifest.

For the demo, the test suite and anyone trying casesync out on one machine. A real deployment
keeps the root key offline and each region's private key in that region (``casesync keys``);
here one folder holds them all. Keys are valid from a day ago for a year, the manifest for 30
days; ``publish`` writes the next manifest version (rotation, revocation, expiry).
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self

from casesync.settings import Settings
from casesync.trust.keys import PublicKeyEntry, SigningKey, new_signing_key, write_signing_key
from casesync.trust.manifest import Manifest, build_manifest, sign_manifest, signed_document

DAY = timedelta(days=1)


@dataclass
class LocalFederation:
    """A root key, a key per region, and the manifest file processes read."""

    folder: Path
    root: SigningKey
    keys: dict[str, SigningKey]
    version: int = 0

    @classmethod
    def create(cls, folder: Path, regions: Iterable[str]) -> Self:
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
