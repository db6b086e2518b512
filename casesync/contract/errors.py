"""Every way a case event can fail to cross the contract, as one typed family.

The decoder translates all library errors into these at its edge, so a consumer branches on the
class (and its ``retriable`` flag) and never on message text. Messages carry fingerprints, field
names and symbols only, never personal data such as ID numbers.
"""

from __future__ import annotations


class ContractError(Exception):
    """Base of every error raised by ``casesync.contract``."""

    retriable: bool = False


class NotSingleObjectEncoded(ContractError):
    """The bytes lack the ``C3 01`` marker or are too short to hold marker and fingerprint."""


class UnknownFingerprint(ContractError):
    """No schema is known, locally or remotely, for the writer fingerprint in the header."""

    def __init__(self, fingerprint_hex: str) -> None:
        super().__init__(f"no writer schema known for fingerprint {fingerprint_hex}")
        self.fingerprint_hex = fingerprint_hex


class UndecodableBody(ContractError):
    """The body does not decode against its writer schema, or bytes trail after it."""


class SchemaParseError(ContractError):
    """A schema text is not a valid Avro schema, or does not match the fingerprint it came under."""


class IncompatibleSchema(ContractError):
    """The writer schema cannot be resolved to this reader's schema."""


class UnencodableRecord(ContractError):
    """A record does not match the writer schema and cannot be encoded."""


class UnknownSymbol(ContractError):
    """An enum arrived as a symbol this reader's domain vocabulary does not have."""


class SchemaSourceUnavailable(ContractError):
    """The remote schema source failed to answer; trying again later may succeed."""

    retriable = True
