"""Rules every released case event schema keeps, so evolution stays FULL_TRANSITIVE."""

from __future__ import annotations

import json
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import pytest

from casesync.contract.schemas import CASE_EVENT_SCHEMA_DIR, load_versions
from casesync.domain import vocabulary

VERSIONS = load_versions()
NAMESPACE = "casesync.event"


def named_types(schema: Any) -> Iterator[dict[str, Any]]:
    """Every record and enum definition inside ``schema``, depth first."""
    if isinstance(schema, list):
        for branch in schema:
            yield from named_types(branch)
    elif isinstance(schema, dict):
        if schema.get("type") in ("record", "enum"):
            yield schema
        for field in schema.get("fields", []):
            yield from named_types(field["type"])
        if "items" in schema:
            yield from named_types(schema["items"])


def schema_of(version: int) -> dict[str, Any]:
    return dict(json.loads(VERSIONS[version - 1].schema_json))


ALL = [pytest.param(n, id=f"v{n}") for n in range(1, len(VERSIONS) + 1)]


@pytest.mark.parametrize("version", ALL)
def test_every_record_and_field_has_a_doc(version: int) -> None:
    """Each record, enum and field documents itself, so partners read meaning, not guesses."""
    for named in named_types(schema_of(version)):
        assert named.get("doc"), named["name"]
        for field in named.get("fields", []):
            assert field.get("doc"), f"{named['name']}.{field['name']}"


@pytest.mark.parametrize("version", ALL)
def test_every_enum_defaults_to_unknown(version: int) -> None:
    """A symbol added later reads as UNKNOWN in an older reader instead of failing."""
    enums = [t for t in named_types(schema_of(version)) if t["type"] == "enum"]
    assert enums
    for enum in enums:
        assert enum["default"] == "UNKNOWN"
        assert "UNKNOWN" in enum["symbols"]


@pytest.mark.parametrize("version", ALL)
def test_namespace_carries_no_version(version: int) -> None:
    """Full names stay the same across versions, which resolution requires."""
    schema = schema_of(version)
    assert schema["namespace"] == NAMESPACE
    assert all("namespace" not in t for t in named_types(schema) if t is not schema)


def test_latest_enums_match_the_domain_vocabulary() -> None:
    """The latest schema has exactly the domain's symbols, plus UNKNOWN."""
    types = named_types(schema_of(len(VERSIONS)))
    enums = {t["name"]: t["symbols"] for t in types if t["type"] == "enum"}
    for name in ("EventType", "CaseState", "HandlingMode", "MaterialStatus", "ApplicantKind"):
        domain_enum: type[StrEnum] = getattr(vocabulary, name)
        assert set(enums[name]) == {m.value for m in domain_enum} | {"UNKNOWN"}, name


def test_versions_are_numbered_without_gaps() -> None:
    """Schema files are v1..vN, so version numbers and file names agree."""
    names = sorted(p.name for p in CASE_EVENT_SCHEMA_DIR.glob("v*.avsc"))
    assert len(names) == len(VERSIONS) >= 2
