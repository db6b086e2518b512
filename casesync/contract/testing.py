"""Test helpers shipped with the contract: an in-memory stand-in for the schema topic."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class InMemorySchemaSource:
    """A ``RemoteSchemaSource`` held in a dict; records calls so tests can see the caching."""

    entries: dict[str, str] = field(default_factory=dict)
    fetches: list[str] = field(default_factory=list)
    publishes: list[str] = field(default_factory=list)
    fail_with: Exception | None = None  # set to make every call raise, as a broken broker would

    def fetch(self, fingerprint_hex: str) -> str | None:
        """Record the lookup and answer from ``entries``."""
        self.fetches.append(fingerprint_hex)
        if self.fail_with is not None:
            raise self.fail_with
        return self.entries.get(fingerprint_hex)

    def publish(self, fingerprint_hex: str, schema_json: str) -> None:
        """Record the publication and keep the latest value per key, as a compacted topic does."""
        self.publishes.append(fingerprint_hex)
        if self.fail_with is not None:
            raise self.fail_with
        self.entries[fingerprint_hex] = schema_json
