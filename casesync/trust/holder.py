"""The manifest a process trusts: pure, told the time by its caller.

A new manifest replaces the held one only when it is signed by the pinned root, newer than the
held one, and not expired; otherwise the held one stays, until it expires itself.
"""

from __future__ import annotations

from datetime import datetime

from casesync.trust.errors import (
    ManifestBadlySigned,
    ManifestExpired,
    ManifestOlderThanHeld,
    NoTrustedManifest,
    UnknownKey,
)
from casesync.trust.keys import PublicKeyEntry, RootPublicKey
from casesync.trust.manifest import Manifest, SignedManifest


class ManifestHolder:
    """Holds the last good manifest and answers which keys are valid."""

    def __init__(self, root: RootPublicKey) -> None:
        self.root = root
        self._held: Manifest | None = None

    @property
    def held(self) -> Manifest | None:
        """The last manifest accepted, expired or not (for status displays)."""
        return self._held

    def offer(self, signed: SignedManifest, now: datetime) -> Manifest:
        """Accept ``signed`` if it deserves trust and is news; return the manifest held after.

        The same version offered again with the same content (a compacted topic read anew)
        changes nothing; refused ones raise a ManifestError and leave the held one in place.
        """
        if not signed.signed_by(self.root):
            raise ManifestBadlySigned(
                f"manifest version {signed.manifest.version} is not signed by the pinned root "
                f"key {self.root.key_id}"
            )
        offered = signed.manifest
        if offered.expired_at(now):
            raise ManifestExpired(
                f"manifest version {offered.version} expired at {offered.expires_at.isoformat()}"
            )
        held = self._held
        if held is not None and offered.version <= held.version:
            if offered == held:
                return held
            raise ManifestOlderThanHeld(offered.version, held.version)
        self._held = offered
        return offered

    def current(self, now: datetime) -> Manifest:
        """The manifest in force at ``now``; NoTrustedManifest when none is, or it expired."""
        held = self._held
        if held is None:
            raise NoTrustedManifest("no manifest signed by the trust root has been received")
        if held.expired_at(now):
            raise NoTrustedManifest(
                f"the manifest held (version {held.version}) expired at "
                f"{held.expires_at.isoformat()}"
            )
        return held

    def entry(self, key_id: str, now: datetime) -> PublicKeyEntry:
        """The entry of ``key_id`` in the manifest in force; UnknownKey when it lists none."""
        entry = self.current(now).by_id.get(key_id)
        if entry is None:
            raise UnknownKey(key_id)
        return entry

    def key_valid(self, key_id: str, region: str, at: datetime, *, now: datetime) -> bool:
        """Whether the manifest in force at ``now`` lets ``key_id`` sign for ``region`` at
        ``at`` (inside its window, before any revocation)."""
        entry = self.current(now).by_id.get(key_id)
        return entry is not None and entry.region == region and entry.valid_at(at)
