"""Errors of signing and verification. Each has a ``retriable`` flag the retry logic reads.

The five ``VerificationFailed`` classes are the dead-letter classes of the ``verify`` stage, one
class per reason (the consumer records the class name): ``Unsigned``, ``BadSignature``,
``UnknownKey``, ``KeyNotValidThen``, ``SignerNotSource``. A record refused with one of them is
never applied. ``NoTrustedManifest`` is not about the record: without a manifest nothing can be
verified, so the consumer waits for one instead of dead-lettering everything.
"""

from __future__ import annotations

from casesync.errors import CasesyncError


class TrustError(CasesyncError):
    """Base class of signing, verification and manifest errors."""


class VerificationFailed(TrustError):
    """A record's signature does not prove that its source region wrote it as it is."""


class Unsigned(VerificationFailed):
    """The record carries none of the signature headers."""

    def __init__(self) -> None:
        super().__init__("the record is not signed (no sig_* headers)")


class BadSignature(VerificationFailed):
    """The record, its inclusion path or the root signature do not match, or are malformed."""


class UnknownKey(VerificationFailed):
    """The record is signed by a key the held manifest does not list."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"signed by key {key_id!r}, which the manifest does not list")
        self.key_id = key_id


class KeyNotValidThen(VerificationFailed):
    """The signing key was outside its validity window, or revoked, at the signing time."""


class SignerNotSource(VerificationFailed):
    """A valid key of one region signed an event whose source is another region."""

    def __init__(self, key_id: str, key_region: str, source_region: str) -> None:
        super().__init__(
            f"key {key_id!r} belongs to region {key_region}, "
            f"but the event's source region is {source_region}"
        )


class NoTrustedManifest(TrustError):
    """No manifest is held, or the one held has expired: nothing can be verified until a new
    one arrives."""

    retriable = True


class ManifestError(TrustError):
    """A manifest was refused; the one held before (if any) stays in force."""


class ManifestBadlySigned(ManifestError):
    """The manifest's signature is missing, or not the pinned root's over its canonical bytes."""


class ManifestOlderThanHeld(ManifestError):
    """The manifest's version is not newer than the version already held."""

    def __init__(self, offered: int, held: int) -> None:
        super().__init__(f"manifest version {offered} is not newer than the held version {held}")


class ManifestExpired(ManifestError):
    """The manifest's expiry time has passed."""


class ManifestMalformed(ManifestError):
    """The manifest document is not what the format says (the message names the field)."""


class KeyFileError(TrustError):
    """A key file or key text could not be read or written (the message never holds key bytes)."""


class SuiteUnavailable(TrustError):
    """The signature suite is known by name but cannot be used here (see ``suites``)."""


class OpenSSLError(TrustError):
    """A call into OpenSSL's libcrypto failed; the message carries OpenSSL's error strings."""
