"""Signature suites: the signature algorithm and the hash of the batch tree, named in every key
entry and every signed record.

``ed25519`` (the default): Ed25519 signatures (RFC 8032) with SHA-256 trees, through
``cryptography``.

``sm2-sm3`` (GB/T 32918 signatures, GB/T 32905 hashes, for deployments assessed under
GB/T 39786) is reserved by name and not yet usable, because no maintained library signs with SM2
here. What was tried on this machine (Python 3.11, OpenSSL 3.0):

- ``cryptography`` 50: SM3 yes (and ``hashlib.new("sm3")`` through OpenSSL), SM2 no.
- ``gmssl`` 3.2.2 (pure Python, last release 2023): signs and verifies, at 6.4 ms a signature
  and 11.2 ms a verification on one core; batched per 5,000 records that is ~1.3 µs and ~2.2 µs
  an event, per 100 records ~64 µs and ~112 µs (over the consumer's whole per-event budget).
  Not adopted: its default nonce comes from ``random`` (Mersenne Twister), and a predictable
  SM2 nonce gives away the private key; its big-integer arithmetic is not constant time.
- ``gmssl-python`` 2.2.2 (the GmSSL project's binding): a ctypes wrapper that needs the GmSSL 3
  C library (``libgmssl.so``), which neither Debian nor the wheel ships; import fails with
  "Install GmSSL dynamic library".
- OpenSSL 3.0 itself has SM2 (``openssl list -public-key-algorithms``), but neither
  ``cryptography`` nor pyOpenSSL exposes SM2 signing; a process per batch costs milliseconds.

Adding the suite means one more ``Suite`` here (its hash is ``hashlib.new("sm3")``, available
already); key entries, headers, trees and manifests carry the suite name and need no change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from casesync.trust.errors import SuiteUnavailable

ED25519 = "ed25519"
SM2_SM3 = "sm2-sm3"
_UNAVAILABLE = {SM2_SM3: "no maintained SM2 library works here (see casesync.trust.suites)"}


@dataclass(frozen=True, slots=True)
class Suite:
    """A signature algorithm and the hash its batch trees are built with."""

    name: str
    new_hash: Callable[[bytes], Any]  # hashlib-style constructor: new_hash(data).digest()
    public_key_size: int
    signature_size: int

    def generate(self) -> Ed25519PrivateKey:
        """A fresh private key."""
        return Ed25519PrivateKey.generate()

    def public_bytes_of(self, private: Ed25519PrivateKey) -> bytes:
        """The raw public key of ``private``."""
        return private.public_key().public_bytes_raw()

    def load_public(self, raw: bytes) -> Ed25519PublicKey:
        """The public key object for raw bytes (ValueError when malformed)."""
        return Ed25519PublicKey.from_public_bytes(raw)

    def verify(self, public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
        """Whether ``signature`` is ``public``'s over ``message``."""
        try:
            public.verify(signature, message)
        except InvalidSignature:
            return False
        return True


SUITES = {ED25519: Suite(ED25519, hashlib.sha256, public_key_size=32, signature_size=64)}


def suite_named(name: str) -> Suite:
    """The suite called ``name``; SuiteUnavailable when unknown or not usable here."""
    suite = SUITES.get(name)
    if suite is None:
        reason = _UNAVAILABLE.get(name, "unknown suite")
        raise SuiteUnavailable(f"signature suite {name!r}: {reason}")
    return suite
