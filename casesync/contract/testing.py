"""Test helpers shipped with the contract: an in-memory schema topic and a sample event."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from casesync.domain.events import Applicant, CaseEvent, CaseSnapshot, Material
from casesync.domain.vocabulary import (
    ApplicantKind,
    CaseState,
    EventType,
    HandlingMode,
    MaterialStatus,
)


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


def sample_case_event(**overrides: Any) -> CaseEvent:
    """An accepted-elsewhere case (苏州 for 银川); keyword arguments replace its fields."""
    event = CaseEvent(
        event_id="0d3c8f5e-1c7a-4f55-9e0b-6a1d2b3c4d5e",
        event_type=EventType.CASE_FORWARDED,
        case_id="320500-2024-001024",
        case_version=2,
        source_region="320500",
        occurred_at=datetime(2024, 5, 6, 8, 0, 1, 123456, tzinfo=UTC),
        correlation_id="5b6c7d8e-9f00-4a1b-8c2d-3e4f5a6b7c8d",
        causation_id=None,
        target_regions=("640100",),
        snapshot=CaseSnapshot(
            state=CaseState.FORWARDED,
            item_code="320500120003",
            handling_mode=HandlingMode.ACCEPTED_ELSEWHERE,
            owner_region="320500",
            step_owner="640100",
            applicant=Applicant(
                kind=ApplicantKind.COMPANY,
                name="苏州某某科技有限公司",
                credit_code="91320500MA1XXXXX0X",
            ),
            materials=(Material("M001", "申请书", MaterialStatus.ACCEPTED),),
            submitted_at=datetime(2024, 5, 6, 7, 45, tzinfo=UTC),
            promised_deadline=date(2024, 5, 31),
        ),
    )
    return replace(event, **overrides)
