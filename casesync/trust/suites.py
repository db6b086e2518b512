"""Signature suites: the signature algorithm and the hash of the batch tree, named in every key
entry and every signed record.

``ed25519`` (the default): Ed25519 signatures (RFC 8032) with SHA-256 trees, through
``cryptography``.

``sm2-sm3``, for deployments assessed under GB/T 39786: SM2 signatures (GB/T 32918.2) with SM3
(GB/T 32905) as their digest and as the tree hash, over the default signer identity
``1234567812345678`` (GM/T 0009), DER-encoded (70 to 72 bytes). OpenSSL 3's libcrypto does the
work, reached by ctypes (``openssl_sm2``), because no Python library offers SM2 well here:

- ``cryptography`` 50: SM3 yes, SM2 no (an SM2 key file is "unsupported curve").
- ``gmssl`` 3.2.2 (pure Python): its default nonce comes from ``random`` (Mersenne Twister), and
  a predictable SM2 nonce gives away the private key; its arithmetic is not constant time and
  costs ~6 ms a signature. It is used only in a test, to cross-check signatures.
- ``gmssl-python`` 2.2.2 needs the GmSSL 3 C library, which neither Debian nor the wheel ships.

The tree hash is ``hashlib``'s SM3 (OpenSSL's too). When libcrypto cannot be loaded or offers no
SM2 or SM3 (an OpenSSL 1.1 or a build without them), ``sm2-sm3`` stays a known name refused with
``SuiteUnavailable`` giving that reason, and a manifest listing an SM2 key is refused here.

Measured on one shared core (``benchmarks/bench_trust.py --records 2000``): SM2 ~350 µs a
signature and ~300 µs a verification (Ed25519 ~34 and ~106 µs); SM3 ~2.1 µs over a 532-byte
leaf (SHA-256 ~0.6 µs). Batch signing spreads the signature: per event, signing costs 9.7, 6.6
and 7.0 µs in batches of 100, 1,000 and 5,000 (Ed25519 4.4, 4.1, 4.9) and verifying 16.0, 13.7
and 15.5 µs (Ed25519 11.5, 11.4, 11.6); beyond ~1,000 records a batch, SM3's slower hashing is
what SM2 adds, not the signature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from casesync.trust import openssl_sm2
from casesync.trust.errors import SuiteUnavailable

ED25519 = "ed25519"
SM2_SM3 = "sm2-sm3"


class Scheme(Protocol):
    """What a suite needs of its signature library. Private and public key objects are the
    library's own; nothing outside the suite looks inside them."""

    def generate(self) -> Any: ...
    def public_bytes_of(self, private: Any) -> bytes: ...
    def load_public(self, raw: bytes) -> Any: ...
    def sign(self, private: Any, message: bytes) -> bytes: ...
    def verify(self, public: Any, signature: bytes, message: bytes) -> bool: ...
    def private_pem(self, private: Any) -> bytes: ...
    def load_private_pem(self, pem: bytes) -> Any | None: ...


@dataclass(frozen=True, slots=True)
class Suite:
    """A signature algorithm and the hash its batch trees are built with."""

    name: str
    new_hash: Callable[[bytes], Any]  # hashlib-style constructor: new_hash(data).digest()
    public_key_size: int
    signature_size: int  # the largest signature (SM2's DER encoding varies by a few bytes)
    scheme: Scheme

    def generate(self) -> Any:
        """A fresh private key."""
        return self.scheme.generate()

    def public_bytes_of(self, private: Any) -> bytes:
        """The raw public key of ``private``."""
        return self.scheme.public_bytes_of(private)

    def load_public(self, raw: bytes) -> Any:
        """The public key object for raw bytes (ValueError when malformed)."""
        return self.scheme.load_public(raw)

    def sign(self, private: Any, message: bytes) -> bytes:
        """``private``'s signature over ``message``."""
        return self.scheme.sign(private, message)

    def verify(self, public: Any, signature: bytes, message: bytes) -> bool:
        """Whether ``signature`` is ``public``'s over ``message``."""
        return self.scheme.verify(public, signature, message)

    def private_pem(self, private: Any) -> bytes:
        """``private`` as unencrypted PKCS#8 PEM, for its 0600 file only."""
        return self.scheme.private_pem(private)

    def load_private_pem(self, pem: bytes) -> Any | None:
        """The private key in unencrypted PKCS#8 PEM, None when it is another suite's key;
        ValueError when it is no such PEM key at all."""
        return self.scheme.load_private_pem(pem)


class _Ed25519:
    """Ed25519 through ``cryptography``."""

    def generate(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.generate()

    def public_bytes_of(self, private: Ed25519PrivateKey) -> bytes:
        return private.public_key().public_bytes_raw()

    def load_public(self, raw: bytes) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(raw)

    def sign(self, private: Ed25519PrivateKey, message: bytes) -> bytes:
        return private.sign(message)

    def verify(self, public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
        try:
            public.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def private_pem(self, private: Ed25519PrivateKey) -> bytes:
        return private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def load_private_pem(self, pem: bytes) -> Ed25519PrivateKey | None:
        try:
            private = serialization.load_pem_private_key(pem, password=None)
        except UnsupportedAlgorithm:  # e.g. an SM2 key: cryptography knows no SM2 curve
            return None
        except TypeError as e:  # encrypted: the callers say "not unencrypted PKCS#8"
            raise ValueError("an encrypted private key") from e
        return private if isinstance(private, Ed25519PrivateKey) else None


class _Sm2:
    """SM2 with SM3 and the default identity through OpenSSL (``openssl_sm2``)."""

    def generate(self) -> openssl_sm2.Sm2PrivateKey:
        return openssl_sm2.generate()

    def public_bytes_of(self, private: openssl_sm2.Sm2PrivateKey) -> bytes:
        return private.public_bytes()

    def load_public(self, raw: bytes) -> openssl_sm2.Sm2PublicKey:
        return openssl_sm2.load_public(raw)

    def sign(self, private: openssl_sm2.Sm2PrivateKey, message: bytes) -> bytes:
        return private.sign(message)

    def verify(self, public: openssl_sm2.Sm2PublicKey, signature: bytes, message: bytes) -> bool:
        return public.verify(signature, message)

    def private_pem(self, private: openssl_sm2.Sm2PrivateKey) -> bytes:
        return private.pkcs8_pem()

    def load_private_pem(self, pem: bytes) -> openssl_sm2.Sm2PrivateKey | None:
        return openssl_sm2.load_private_pem(pem)


def _sm3(data: bytes = b"") -> Any:
    """SM3 (GB/T 32905) as hashlib gives it, by copying a fresh object: looking the name up
    for each hash costs more than hashing a leaf."""
    digest = _SM3_EMPTY.copy()
    digest.update(data)
    return digest


SUITES = {ED25519: Suite(ED25519, hashlib.sha256, 32, 64, _Ed25519())}
_UNAVAILABLE: dict[str, str] = {}
if openssl_sm2.UNAVAILABLE_REASON is None:
    _SM3_EMPTY = hashlib.new("sm3")  # never updated, only copied: safe to share between threads
    SUITES[SM2_SM3] = Suite(
        SM2_SM3,
        _sm3,
        openssl_sm2.PUBLIC_KEY_SIZE,
        openssl_sm2.MAX_SIGNATURE_SIZE,
        _Sm2(),
    )
else:
    _UNAVAILABLE[SM2_SM3] = openssl_sm2.UNAVAILABLE_REASON


def suite_named(name: str) -> Suite:
    """The suite called ``name``; SuiteUnavailable when unknown or not usable here."""
    suite = SUITES.get(name)
    if suite is None:
        reason = _UNAVAILABLE.get(name, "unknown suite")
        raise SuiteUnavailable(f"signature suite {name!r}: {reason}")
    return suite
