"""The federation manifest: the one trust anchor every process holds.

After X-Road's global configuration: the regions, their public keys with validity windows, a
monotonic version, issued and expiry times, all signed by the platform root key. The JSON file::

    {"format": "casesync-manifest/1", "version": 3,
     "issued_at": "2026-03-01T00:00:00Z", "expires_at": "2026-03-31T00:00:00Z",
     "regions": ["320500", "320623"],
     "keys": [{"key_id": "…", "region": "320623", "suite": "ed25519", "public_key": "<base64>",
               "valid_from": "…Z", "valid_until": "…Z", "revoked_at": "…Z" (only when revoked)}],
     "signature": {"root_key_id": "…", "suite": "ed25519", "value": "<base64>"}}

The signature covers ``canonical_bytes(MANIFEST_TAG, document without "signature")``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from casesync.trust.canonical import canonical_bytes, format_time, parse_time, whole_second
from casesync.trust.errors import ManifestBadlySigned, ManifestMalformed, SuiteUnavailable
from casesync.trust.keys import PublicKeyEntry, RootPublicKey, SigningKey, key_id_of
from casesync.trust.suites import suite_named

FORMAT = "casesync-manifest/1"
MANIFEST_TAG = b"casesync-manifest-v1"


@dataclass(frozen=True, slots=True)
class Manifest:
    """The regions and their keys, as of one version."""

    version: int
    issued_at: datetime
    expires_at: datetime
    regions: tuple[str, ...]
    keys: tuple[PublicKeyEntry, ...]
    by_id: dict[str, PublicKeyEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {entry.key_id: entry for entry in self.keys})

    def expired_at(self, now: datetime) -> bool:
        """Whether the manifest may no longer be trusted at ``now``."""
        return now >= self.expires_at

    def signed_bytes(self) -> bytes:
        """The canonical bytes the root signs."""
        return canonical_bytes(MANIFEST_TAG, unsigned_document(self))


@dataclass(frozen=True, slots=True)
class SignedManifest:
    """A manifest with the root's signature over its canonical bytes."""

    manifest: Manifest
    root_key_id: str
    suite: str
    signature: bytes

    def signed_by(self, root: RootPublicKey) -> bool:
        """Whether the pinned ``root`` made this signature over this manifest."""
        if self.root_key_id != root.key_id or self.suite != root.suite:
            return False
        return root.verifies(self.signature, self.manifest.signed_bytes())


def build_manifest(
    version: int,
    issued_at: datetime,
    expires_at: datetime,
    keys: Iterable[PublicKeyEntry],
    regions: Iterable[str] = (),
) -> Manifest:
    """A manifest over ``keys``; the regions are those named plus every key's region."""
    entries = tuple(sorted(keys, key=lambda e: e.key_id))
    manifest = Manifest(
        version,
        issued_at,
        expires_at,
        tuple(sorted(set(regions) | {e.region for e in entries})),
        entries,
    )
    _check(manifest)
    return manifest


def successor(
    previous: Manifest | None,
    now: datetime,
    lifetime: timedelta,
    add: Iterable[PublicKeyEntry] = (),
    revoke: Mapping[str, datetime] | None = None,
) -> Manifest:
    """The next manifest after ``previous`` (version + 1, or 1): its keys plus ``add``, each
    key in ``revoke`` revoked from the time given (date it from the compromise: signatures
    made before it still verify), issued ``now`` and valid for ``lifetime``. An added entry
    replaces a listed one of the same id (to change its window)."""
    entries = {} if previous is None else dict(previous.by_id)
    entries.update((entry.key_id, entry) for entry in add)
    for key_id, at in (revoke or {}).items():
        if key_id not in entries:
            raise ManifestMalformed(f"no key {key_id!r} in the manifest to revoke")
        entries[key_id] = replace(entries[key_id], revoked_at=whole_second(at))
    issued = whole_second(now)
    return build_manifest(
        1 if previous is None else previous.version + 1,
        issued,
        issued + lifetime,
        entries.values(),
        () if previous is None else previous.regions,
    )


def sign_manifest(manifest: Manifest, root: SigningKey) -> SignedManifest:
    """``manifest`` signed by the platform root key."""
    return SignedManifest(manifest, root.key_id, root.suite, root.sign(manifest.signed_bytes()))


def unsigned_document(manifest: Manifest) -> dict[str, Any]:
    """The manifest as a JSON document, without signature."""
    return {
        "format": FORMAT,
        "version": manifest.version,
        "issued_at": format_time(manifest.issued_at),
        "expires_at": format_time(manifest.expires_at),
        "regions": list(manifest.regions),
        "keys": [entry_document(e) for e in manifest.keys],
    }


def signed_document(signed: SignedManifest) -> dict[str, Any]:
    """The signed manifest as a JSON document."""
    document = unsigned_document(signed.manifest)
    document["signature"] = {
        "root_key_id": signed.root_key_id,
        "suite": signed.suite,
        "value": base64.b64encode(signed.signature).decode("ascii"),
    }
    return document


def entry_document(entry: PublicKeyEntry) -> dict[str, Any]:
    """A public key entry as JSON (what ``casesync keys new`` prints)."""
    document: dict[str, Any] = {
        "key_id": entry.key_id,
        "region": entry.region,
        "suite": entry.suite,
        "public_key": base64.b64encode(entry.public_key).decode("ascii"),
        "valid_from": format_time(entry.valid_from),
        "valid_until": format_time(entry.valid_until),
    }
    if entry.revoked_at is not None:
        document["revoked_at"] = format_time(entry.revoked_at)
    return document


def parse_entry(document: object) -> PublicKeyEntry:
    """The entry a JSON object describes; ManifestMalformed naming the bad field."""
    fields = _object(document, "key entry")
    revoked = fields.get("revoked_at")
    entry = PublicKeyEntry(
        key_id=_text(fields, "key_id"),
        region=_text(fields, "region"),
        suite=_text(fields, "suite"),
        public_key=_base64(fields, "public_key"),
        valid_from=_time(fields, "valid_from"),
        valid_until=_time(fields, "valid_until"),
        revoked_at=None if revoked is None else _time(fields, "revoked_at"),
    )
    _check_entry(entry)
    return entry


def parse_manifest(document: object) -> Manifest:
    """The manifest a JSON document describes (a signature in it is ignored)."""
    fields = _object(document, "manifest")
    if fields.get("format") != FORMAT:
        raise ManifestMalformed(f"format must be {FORMAT!r}, got {fields.get('format')!r}")
    version = fields.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ManifestMalformed(f"version must be a whole number ≥ 1, got {version!r}")
    regions = fields.get("regions")
    keys = fields.get("keys")
    if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
        raise ManifestMalformed("regions must be a list of region codes")
    if not isinstance(keys, list):
        raise ManifestMalformed("keys must be a list of key entries")
    return build_manifest(
        version,
        _time(fields, "issued_at"),
        _time(fields, "expires_at"),
        [parse_entry(k) for k in keys],
        regions,
    )


def parse_signed_manifest(document: object) -> SignedManifest:
    """The signed manifest a JSON document describes; an absent signature is malformed."""
    manifest = parse_manifest(document)
    signature = _object(document, "manifest").get("signature")
    if not isinstance(signature, dict):
        raise ManifestBadlySigned(f"manifest version {manifest.version} carries no signature")
    return SignedManifest(
        manifest,
        _text(signature, "root_key_id"),
        _text(signature, "suite"),
        _base64(signature, "value"),
    )


def _check(manifest: Manifest) -> None:
    if manifest.expires_at <= manifest.issued_at:
        raise ManifestMalformed("expires_at must be after issued_at")
    if len(manifest.by_id) != len(manifest.keys):
        raise ManifestMalformed("a key id is listed twice")


def _check_entry(entry: PublicKeyEntry) -> None:
    try:
        suite = suite_named(entry.suite)
    except SuiteUnavailable as e:
        raise ManifestMalformed(f"key {entry.key_id}: {e}") from e
    if len(entry.public_key) != suite.public_key_size:
        raise ManifestMalformed(f"key {entry.key_id}: public key of {len(entry.public_key)} bytes")
    try:  # the right length is not enough: an SM2 key must be a point on the curve
        suite.load_public(entry.public_key)
    except ValueError as e:
        raise ManifestMalformed(f"key {entry.key_id}: not a valid {entry.suite} public key") from e
    if key_id_of(entry.suite, entry.public_key) != entry.key_id:
        raise ManifestMalformed(f"key {entry.key_id}: the id is not its public key's")
    if entry.valid_until <= entry.valid_from:
        raise ManifestMalformed(f"key {entry.key_id}: valid_until must be after valid_from")


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ManifestMalformed(f"{what} must be a JSON object")
    return value


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value:
        raise ManifestMalformed(f"{name} must be non-empty text, got {value!r}")
    return value


def _base64(fields: dict[str, Any], name: str) -> bytes:
    try:
        return base64.b64decode(_text(fields, name), validate=True)
    except (binascii.Error, ValueError) as e:
        raise ManifestMalformed(f"{name} is not base64") from e


def _time(fields: dict[str, Any], name: str) -> datetime:
    try:
        return parse_time(fields.get(name))
    except ValueError as e:
        raise ManifestMalformed(f"{name}: {e}") from e
