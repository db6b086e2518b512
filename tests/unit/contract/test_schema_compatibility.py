"""FULL_TRANSITIVE compatibility of the released versions, checked with the avro package."""

from __future__ import annotations

import json
from typing import Any

import avro.schema
import pytest
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from casesync.contract.compatibility import compatibility_problems, full_transitive_problems
from casesync.contract.schemas import load_versions

VERSIONS = load_versions()
PAIRS = [
    pytest.param(older, newer, id=f"v{older + 1}-v{newer + 1}")
    for newer in range(len(VERSIONS))
    for older in range(newer)
]


def compatible(reader_json: str, writer_json: str) -> bool:
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(
        avro.schema.parse(reader_json), avro.schema.parse(writer_json)
    )
    return bool(result.compatibility is SchemaCompatibilityType.compatible)


def latest() -> dict[str, Any]:
    return dict(json.loads(VERSIONS[-1].schema_json))


def field_index(record: dict[str, Any], name: str) -> int:
    return next(i for i, f in enumerate(record["fields"]) if f["name"] == name)


def test_there_is_more_than_one_version_to_check() -> None:
    """The evolution mechanism is exercised by at least one real successor version."""
    assert len(PAIRS) >= 1


@pytest.mark.parametrize(("older", "newer"), PAIRS)
def test_newer_reader_reads_older_writer(older: int, newer: int) -> None:
    """A region that upgraded its consumer still reads partners that have not upgraded."""
    assert compatible(VERSIONS[newer].schema_json, VERSIONS[older].schema_json)


@pytest.mark.parametrize(("older", "newer"), PAIRS)
def test_older_reader_reads_newer_writer(older: int, newer: int) -> None:
    """A region that has not upgraded still reads partners whose producers did."""
    assert compatible(VERSIONS[older].schema_json, VERSIONS[newer].schema_json)


def test_full_transitive_helper_agrees() -> None:
    """The helper the codec relies on finds no problem between the released versions."""
    assert full_transitive_problems([v.schema_json for v in VERSIONS]) == ()


def test_removing_a_required_field_is_caught() -> None:
    """Dropping a field without default breaks old readers, and the check says so."""
    broken = latest()
    del broken["fields"][field_index(broken, "case_id")]
    assert not compatible(VERSIONS[0].schema_json, json.dumps(broken))
    assert full_transitive_problems([VERSIONS[0].schema_json, json.dumps(broken)])


def test_changing_a_field_type_is_caught() -> None:
    """Narrowing case_version from long to int breaks new readers of old data."""
    broken = latest()
    broken["fields"][field_index(broken, "case_version")]["type"] = "int"
    assert not compatible(json.dumps(broken), VERSIONS[0].schema_json)
    assert compatibility_problems(json.dumps(broken), VERSIONS[0].schema_json)


def test_adding_a_field_without_default_is_caught() -> None:
    """A new field with no default cannot be filled when reading old data."""
    broken = latest()
    broken["fields"].append({"name": "channel", "type": "string", "doc": "window or online"})
    assert not compatible(json.dumps(broken), VERSIONS[0].schema_json)


def test_removing_an_enum_default_is_caught() -> None:
    """Without the UNKNOWN default, an old reader fails on a newer writer's new symbol."""
    old_reader = latest()
    event_type = old_reader["fields"][field_index(old_reader, "event_type")]["type"]
    del event_type["default"]
    newer_writer = latest()
    newer_event_type = newer_writer["fields"][field_index(newer_writer, "event_type")]["type"]
    newer_event_type["symbols"].append("CASE_SUSPENDED")
    assert not compatible(json.dumps(old_reader), json.dumps(newer_writer))
    assert compatible(VERSIONS[-1].schema_json, json.dumps(newer_writer))
