"""Writer schemas by fingerprint: the bundled versions, plus a remote source for the rest.

A consumer meets a fingerprint it does not know when a partner region upgrades first; the store
asks the remote source (a compacted ``casesync.schemas`` topic in production) once, keeps the
answer for good, and remembers a miss for ``negative_ttl`` seconds so a flood of poison messages
does not turn into a flood of remote lookups.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from casesync.contract.errors import (
    ContractError,
    SchemaParseError,
    SchemaSourceUnavailable,
    UnknownFingerprint,
)
from casesync.contract.schemas import RegisteredSchema, register_schema


class RemoteSchemaSource(Protocol):
    """Port to the shared schema log; keys are the fingerprint hex of the 8 wire bytes."""

    def fetch(self, fingerprint_hex: str) -> str | None:
        """The full schema JSON published under this fingerprint, or None if there is none."""
        ...

    def publish(self, fingerprint_hex: str, schema_json: str) -> None:
        """Make the full schema JSON (not just its canonical form) readable under its key."""
        ...


class SchemaStore:
    """Fingerprint → ``RegisteredSchema``; thread-safe, lock taken only on a miss."""

    def __init__(
        self,
        schemas: Iterable[RegisteredSchema] = (),
        remote: RemoteSchemaSource | None = None,
        *,
        negative_ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._known: dict[bytes, RegisteredSchema] = {s.fingerprint: s for s in schemas}
        self._remote = remote
        self._negative_ttl = negative_ttl
        self._clock = clock
        # fingerprint → (expiry, error factory): a miss is re-raised without asking again.
        self._misses: dict[bytes, tuple[float, Callable[[], ContractError]]] = {}
        self._published: set[bytes] = set()
        self._lock = threading.Lock()

    def add(self, schema: RegisteredSchema) -> None:
        """Know ``schema`` locally from now on."""
        self._known[schema.fingerprint] = schema

    def get(self, fingerprint: bytes) -> RegisteredSchema:
        """The schema for these 8 bytes, asking the remote source once if it is new."""
        schema = self._known.get(fingerprint)
        if schema is not None:
            return schema
        with self._lock:
            return self._known.get(fingerprint) or self._fetch(fingerprint)

    def publish(self, schema: RegisteredSchema) -> None:
        """Publish a writer schema to the remote source before its first use (once per store)."""
        if schema.fingerprint in self._published:
            return
        self.add(schema)
        if self._remote is not None:
            try:
                self._remote.publish(schema.fingerprint_hex, schema.schema_json)
            except Exception as e:
                raise SchemaSourceUnavailable(
                    f"could not publish schema {schema.fingerprint_hex} ({type(e).__name__})"
                ) from e
        self._published.add(schema.fingerprint)

    def _fetch(self, fingerprint: bytes) -> RegisteredSchema:
        fingerprint_hex = fingerprint.hex()
        now = self._clock()
        miss = self._misses.get(fingerprint)
        if miss is not None and miss[0] > now:
            raise miss[1]()
        if self._remote is None:
            raise UnknownFingerprint(fingerprint_hex)
        try:
            schema_json = self._remote.fetch(fingerprint_hex)
        except Exception as e:  # the port's adapter may fail in any way; callers retry
            raise SchemaSourceUnavailable(
                f"schema source failed for {fingerprint_hex} ({type(e).__name__})"
            ) from e
        try:
            schema = self._checked(fingerprint, schema_json)
        except ContractError as e:
            self._misses[fingerprint] = (now + self._negative_ttl, _factory_of(e))
            raise
        self._misses.pop(fingerprint, None)
        self._known[fingerprint] = schema
        return schema

    @staticmethod
    def _checked(fingerprint: bytes, schema_json: str | None) -> RegisteredSchema:
        if schema_json is None:
            raise UnknownFingerprint(fingerprint.hex())
        schema = register_schema(schema_json)
        if schema.fingerprint != fingerprint:
            # A wrong entry under this key must not decode anyone's bytes.
            raise SchemaParseError(
                f"schema published under {fingerprint.hex()}"
                f" has fingerprint {schema.fingerprint_hex}"
            )
        return schema


def _factory_of(error: ContractError) -> Callable[[], ContractError]:
    """A maker of fresh copies: re-raising one shared instance would keep growing its traceback."""
    if isinstance(error, UnknownFingerprint):
        fingerprint_hex = error.fingerprint_hex
        return lambda: UnknownFingerprint(fingerprint_hex)
    error_type, message = type(error), str(error)
    return lambda: error_type(message)
