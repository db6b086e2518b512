"""A pending outbox event from SQL becomes the checked CaseEvent, or a refusal with a reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from casesync.domain.events import Applicant
from casesync.domain.holidays import shipped_calendar
from casesync.domain.loading import shipped_catalogue
from casesync.domain.vocabulary import ApplicantKind, EventType, HandlingMode
from casesync.snapshots import snapshot_to_json
from producers.changes import CaseChange, build_event
from producers.errors import RefusedChange
from producers.pending import event_from_pending

AT = datetime(2026, 3, 2, 1, 2, 3, tzinfo=UTC)


def _pending() -> dict[str, Any]:
    change = CaseChange(
        "RD-1", EventType.CASE_SUBMITTED, 0, AT, item_code="002023002000",
        handling_mode=HandlingMode.FULLY_ONLINE,
        applicant=Applicant(ApplicantKind.PERSON, "王芳", id_number="330483199001011234"),
        target_regions=("330483",), event_id="00000000-0000-4000-8000-000000000001",
    )  # fmt: skip
    event = build_event("320623", change, None, shipped_catalogue(), shipped_calendar())
    return {
        "event_id": event.event_id, "event_type": event.event_type.value,
        "case_id": event.case_id, "case_version": event.case_version,
        "source_region": event.source_region, "occurred_at": event.occurred_at.isoformat(),
        "correlation_id": event.correlation_id, "causation_id": None,
        "target_regions": list(event.target_regions),
        "snapshot": snapshot_to_json(event.snapshot),
    }  # fmt: skip


def test_a_well_formed_pending_event_reads_back_unchanged() -> None:
    """The JSON record_change writes reads back as the event with the same fields."""
    event = event_from_pending(_pending(), shipped_catalogue())
    assert event.case_version == 1
    assert event.target_regions == ("330483",)
    assert snapshot_to_json(event.snapshot) == _pending()["snapshot"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"event_type": "NOPE"}, "NOPE"),
        ({"target_regions": ["999999"]}, "999999"),
        ({"occurred_at": "yesterday"}, "isoformat"),
    ],
)
def test_a_pending_event_that_may_not_be_published_is_refused_with_a_reason(
    change: dict[str, Any], reason: str
) -> None:
    """Bad symbols, targets that do not share the item or broken fields raise RefusedChange."""
    with pytest.raises(RefusedChange, match=reason):
        event_from_pending(_pending() | change, shipped_catalogue())


def test_a_missing_field_is_named() -> None:
    """A pending event without a field is refused naming that field."""
    data = _pending()
    del data["snapshot"]
    with pytest.raises(RefusedChange, match="lacks the field snapshot"):
        event_from_pending(data, shipped_catalogue())
