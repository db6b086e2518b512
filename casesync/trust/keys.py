"""Signing keys and public key entries.

A key id is the first 8 bytes, in hex, of SHA-256 over the suite name and the raw public key: short
enough for every record's headers, stable wherever the key is seen, and bound to the key itself
(the manifest refuses an entry whose id does not match its key). Private keys are PKCS#8 PEM files,
unencrypted, mode 0600 (``casesync.private_files``); their bytes are never logged or printed. A key
file does not name its suite: loading tries each suite usable here (``casesync.trust.suites``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from casesync.private_files import write_private
from casesync.trust.errors import KeyFileError
from casesync.trust.suites import ED25519, SUITES, suite_named

KEY_ID_BYTES = 8


def key_id_of(suite: str, public_key: bytes) -> str:
    """The key id of a raw public key under ``suite``."""
    digest = hashlib.sha256(b"casesync-key-id\0" + suite.encode() + b"\0" + public_key).digest()
    return digest[:KEY_ID_BYTES].hex()


@dataclass(frozen=True, slots=True)
class PublicKeyEntry:
    """A region's public key as the manifest lists it, with the window it may sign in."""

    key_id: str
    region: str
    suite: str
    public_key: bytes
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None = None

    def why_not_valid_at(self, at: datetime) -> str | None:
        """None when the key may sign at ``at``, else why not (window or revocation)."""
        if self.revoked_at is not None and at >= self.revoked_at:
            return f"key {self.key_id} was revoked at {self.revoked_at.isoformat()}"
        if at < self.valid_from:
            return f"key {self.key_id} is valid only from {self.valid_from.isoformat()}"
        if at >= self.valid_until:
            return f"key {self.key_id} was valid only until {self.valid_until.isoformat()}"
        return None

    def valid_at(self, at: datetime) -> bool:
        """Whether the key may sign at ``at``: inside its window and before any revocation."""
        return self.why_not_valid_at(at) is None


class SigningKey:
    """A region's private key; signs batch roots. Its repr names the key, never its bytes."""

    __slots__ = ("_private", "_scheme", "key_id", "public_key", "region", "suite")

    def __init__(self, region: str, private: Any, suite: str = ED25519) -> None:
        """``private`` is a private key object of ``suite`` (as its ``generate`` returns)."""
        self._private = private
        self._scheme = suite_named(suite)
        self.region = region
        self.suite = suite
        self.public_key = self._scheme.public_bytes_of(private)
        self.key_id = key_id_of(suite, self.public_key)

    def sign(self, message: bytes) -> bytes:
        """The signature over ``message``."""
        return self._scheme.sign(self._private, message)

    def pkcs8_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM, for its 0600 file only."""
        return self._scheme.private_pem(self._private)

    def entry(self, valid_from: datetime, valid_until: datetime) -> PublicKeyEntry:
        """The public entry to announce in the manifest, valid in the given window."""
        return PublicKeyEntry(
            self.key_id, self.region, self.suite, self.public_key, valid_from, valid_until
        )

    def __repr__(self) -> str:
        return f"SigningKey(region={self.region!r}, key_id={self.key_id!r}, suite={self.suite!r})"


def new_signing_key(region: str, suite: str = ED25519) -> SigningKey:
    """A fresh key for ``region``."""
    return SigningKey(region, suite_named(suite).generate(), suite)


def key_file_name(key: SigningKey) -> str:
    """``<region>-<key id>.pem``: a folder can hold a region's old and new keys side by side."""
    return f"{key.region}-{key.key_id}.pem"


def write_signing_key(key: SigningKey, folder: Path) -> Path:
    """Save ``key`` in ``folder`` as an unencrypted PKCS#8 PEM file, mode 0600."""
    path = folder / key_file_name(key)
    try:
        write_private(path, key.pkcs8_pem())
    except OSError as e:
        raise KeyFileError(f"cannot write key file {path}: {e.strerror or type(e).__name__}") from e
    return path


def load_signing_key(path: Path, region: str) -> SigningKey:
    """The key in a PEM file written by ``write_signing_key``, as ``region``'s, in whichever
    usable suite it belongs to."""
    try:
        pem = path.read_bytes()
    except OSError as e:
        raise KeyFileError(f"cannot read key file {path}: {e.strerror or type(e).__name__}") from e
    for name, suite in SUITES.items():
        try:
            private = suite.load_private_pem(pem)
        except ValueError as e:  # never the library's message: it may quote the file
            raise KeyFileError(f"key file {path} is not an unencrypted PKCS#8 PEM key") from e
        if private is not None:
            return SigningKey(region, private, name)
    usable = ", ".join(SUITES)
    raise KeyFileError(f"key file {path} holds a key of none of the suites usable here ({usable})")


def region_key_files(folder: Path, region: str) -> list[Path]:
    """The key files of ``region`` in ``folder`` (old and new), by name."""
    return sorted(folder.glob(f"{region}-*.pem"))


def choose_signing_key(
    keys: list[SigningKey], entries: dict[str, PublicKeyEntry], at: datetime
) -> SigningKey | None:
    """The key to sign with at ``at``: of those the manifest lists for the key's own region and
    finds valid then, the one whose window opened last (a rotated-in key wins as soon as its
    window opens); None when there is none."""
    usable = [
        (entry.valid_from, key.key_id, key)
        for key in keys
        if (entry := entries.get(key.key_id)) is not None
        and entry.region == key.region
        and entry.valid_at(at)
    ]
    return max(usable, key=lambda found: found[:2])[2] if usable else None


@dataclass(frozen=True, slots=True)
class RootPublicKey:
    """The platform root's public key, pinned in every process's settings."""

    suite: str
    public_key: bytes

    @property
    def key_id(self) -> str:
        return key_id_of(self.suite, self.public_key)

    def verifies(self, signature: bytes, message: bytes) -> bool:
        """Whether ``signature`` is the root's over ``message``."""
        suite = suite_named(self.suite)
        return suite.verify(suite.load_public(self.public_key), signature, message)


def root_public_text(key: SigningKey) -> str:
    """The base64 text of a root key's raw public key, as CASESYNC_TRUST_ROOT takes it."""
    return base64.b64encode(key.public_key).decode("ascii")


def parse_root_public(setting: str) -> RootPublicKey:
    """The root key CASESYNC_TRUST_ROOT names: a file (PEM public key or base64 text), or the
    base64 of the raw key itself."""
    path = Path(setting)
    text = setting
    if path.is_file():
        try:
            text = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise KeyFileError(f"cannot read the trust root file {path}") from e
    if text.startswith("-----BEGIN PUBLIC KEY-----"):
        try:
            public = serialization.load_pem_public_key(text.encode("ascii"))
        except ValueError as e:
            raise KeyFileError("the trust root is not a readable PEM public key") from e
        if not isinstance(public, Ed25519PublicKey):
            raise KeyFileError(f"the trust root is a {type(public).__name__}, not Ed25519")
        return RootPublicKey(ED25519, public.public_bytes_raw())
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise KeyFileError("the trust root is neither a file, PEM nor base64") from e
    if len(raw) != suite_named(ED25519).public_key_size:
        raise KeyFileError(f"the trust root holds {len(raw)} bytes, not a 32-byte Ed25519 key")
    return RootPublicKey(ED25519, raw)
