"""Golden vectors: committed bytes of one event per schema version, checked against an
independent CRC-64-AVRO written here from the Avro specification."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from casesync.contract.codec import case_event_codec
from casesync.contract.schemas import load_versions
from casesync.domain.events import Applicant, CaseEvent, CaseSnapshot, Material, WorkflowStep
from casesync.domain.vocabulary import (
    ApplicantKind,
    CaseState,
    EventType,
    HandlingMode,
    MaterialStatus,
)

GOLDEN = Path(__file__).parent / "golden"
VERSIONS = range(1, len(load_versions()) + 1)

# Step 2 of a Rudong–Tongxiang medical insurance transfer (基本医疗保险关系转移),
# handled jointly by 如东 320623 and 桐乡 330483.
GOLDEN_EVENT = CaseEvent(
    event_id="6f1c2a52-8d0e-4c1b-9a51-3b0f6f1e2d47",
    event_type=EventType.STEP_REQUESTED,
    case_id="320623-2024-000417",
    case_version=3,
    source_region="320623",
    occurred_at=datetime(2024, 3, 25, 9, 30, 15, 250000, tzinfo=UTC),
    correlation_id="0b7e4f0e-64a4-4b8e-b3b9-0f3e8e7c9d21",
    causation_id="a3d5c1e2-7b44-4f0a-8c2d-5e6f7a8b9c01",
    target_regions=("330483",),
    snapshot=CaseSnapshot(
        state=CaseState.FORWARDED,
        item_code="320623110001",
        handling_mode=HandlingMode.JOINT,
        owner_region="320623",
        step_owner="330483",
        applicant=Applicant(
            kind=ApplicantKind.PERSON,
            name="张三",
            id_number="11010519491231002X",  # the GB 11643 example number, not a real person's
        ),
        materials=(
            Material(
                code="M001",
                name="基本医疗保险关系转移接续申请表",
                status=MaterialStatus.ACCEPTED,
                digest="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            ),
            Material(code="M002", name="联系函", status=MaterialStatus.SUBMITTED),
        ),
        submitted_at=datetime(2024, 3, 22, 14, 5, 0, tzinfo=UTC),
        promised_deadline=date(2024, 4, 19),
        workflow_step=WorkflowStep(
            workflow="medical-insurance-transfer",
            step=2,
            name="转出地办理转出",
            owner_region="330483",
            due=date(2024, 4, 8),
        ),
    ),
)


def crc64_avro(data: bytes) -> int:
    """Rabin CRC-64-AVRO exactly as the Avro specification gives it, table-driven."""
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    fp = empty
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def golden_bytes(version: int) -> bytes:
    return bytes.fromhex((GOLDEN / f"case_event_v{version}.hex").read_text().strip())


def golden_canonical_form(version: int) -> str:
    return (GOLDEN / f"case_event_v{version}.canonical.json").read_text("utf-8").strip()


def test_crc64_avro_matches_the_spec_value_for_the_null_schema() -> None:
    """The in-test CRC gives the fingerprint of "null" from the Avro test suite (as a long)."""
    assert crc64_avro(b'"null"') == 7195948357588979594


@pytest.mark.parametrize("version", VERSIONS)
def test_released_schema_canonical_form_never_changes(version: int) -> None:
    """A released version's Parsing Canonical Form equals the committed one, so its fingerprint
    (and every message ever written with it) stays valid."""
    assert load_versions()[version - 1].canonical_form == golden_canonical_form(version)


@pytest.mark.parametrize("version", VERSIONS)
def test_golden_header_is_marker_and_independent_fingerprint(version: int) -> None:
    """The vector starts with C3 01 and the little-endian CRC-64-AVRO of the canonical form."""
    data = golden_bytes(version)
    expected = crc64_avro(golden_canonical_form(version).encode("utf-8")).to_bytes(8, "little")
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == expected


@pytest.mark.parametrize("version", VERSIONS)
def test_encoding_the_golden_event_reproduces_the_vector(version: int) -> None:
    """Encoding is byte-for-byte stable for a given writer version."""
    codec = case_event_codec(writer_version=version, reader_version=version)
    assert codec.encode(GOLDEN_EVENT) == golden_bytes(version)


@pytest.mark.parametrize("version", VERSIONS)
def test_latest_reader_decodes_every_golden_vector(version: int) -> None:
    """Bytes written by any released version decode to the same event with the latest reader."""
    assert case_event_codec().decode(golden_bytes(version)) == GOLDEN_EVENT
