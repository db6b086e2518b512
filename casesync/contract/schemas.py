"""Schema texts, their canonical form and fingerprint, parsed once.

A ``RegisteredSchema`` keeps the full JSON (logical types, defaults, docs) beside the Parsing
Canonical Form: the fingerprint covers only the canonical form, but fastavro applies logical
types from the *writer* schema and fills defaults from the *reader* schema, so both roles need
the full text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from casesync.contract.errors import SchemaParseError

# The repository keeps the released versions beside the code: schemas/case_event/vN.avsc.
CASE_EVENT_SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas" / "case_event"

_VERSION_FILE = re.compile(r"^v(\d+)\.avsc$")


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    """One writer/reader schema, ready for the codec: fingerprint, texts and fastavro form."""

    fingerprint: bytes  # 8 bytes, CRC-64-AVRO, little-endian as on the wire
    schema_json: str
    canonical_form: str
    parsed: dict[str, Any] = field(compare=False, repr=False)

    @property
    def fingerprint_hex(self) -> str:
        """Hex of the 8 wire bytes, the key of the schema topic."""
        return self.fingerprint.hex()


def register_schema(schema_json: str) -> RegisteredSchema:
    """Parse one schema text; raise ``SchemaParseError`` if it is not a valid Avro schema."""
    try:
        parsed = fastavro.parse_schema(json.loads(schema_json))
        canonical = to_parsing_canonical_form(parsed)
        raw_fingerprint = bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
    except Exception as e:  # any library or recursion error: the text is not a usable schema
        raise SchemaParseError(f"not a valid Avro schema ({type(e).__name__})") from e
    if not isinstance(parsed, dict) or parsed.get("type") != "record":
        raise SchemaParseError("top-level schema must be a record")
    return RegisteredSchema(raw_fingerprint, schema_json, canonical, parsed)


def load_versions(directory: Path = CASE_EVENT_SCHEMA_DIR) -> tuple[RegisteredSchema, ...]:
    """Every ``vN.avsc`` in ``directory``, oldest first: index i holds version i + 1."""
    numbered: list[tuple[int, Path]] = []
    for path in directory.iterdir():
        match = _VERSION_FILE.match(path.name)
        if match:
            numbered.append((int(match.group(1)), path))
    numbered.sort()
    if [number for number, _ in numbered] != list(range(1, len(numbered) + 1)):
        raise SchemaParseError(f"schema files in {directory} are not v1..vN without gaps")
    return tuple(register_schema(path.read_text("utf-8")) for _, path in numbered)
