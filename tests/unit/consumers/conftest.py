"""Factories for the consumer's pure tests: the shipped catalogue and valid partner events."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from casesync.domain.catalogue import Catalogue
from casesync.domain.events import Applicant, CaseEvent, CaseSnapshot
from casesync.domain.loading import shipped_catalogue
from casesync.domain.vocabulary import ApplicantKind, CaseState, EventType, HandlingMode
from consumers.records import SOURCE_HEADER, TARGET_HEADER, Incoming

RUDONG = "320623"
TONGXIANG = "330483"
HOUSING_WITHDRAWAL = "002023002000"
MEDICAL_TRANSFER = "002033003000"
TOPIC = "casesync.inbox.330483"
# What Rudong's relay writes in every record for Tongxiang.
ROUTING = ((SOURCE_HEADER, RUDONG.encode()), (TARGET_HEADER, TONGXIANG.encode()))

EventFactory = Callable[..., CaseEvent]


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The catalogue built from the packaged data files."""
    return shipped_catalogue()


@pytest.fixture
def make_event() -> EventFactory:
    """A valid Rudong housing-fund event for Tongxiang; snapshot fields may be overridden too."""

    def build(**overrides: Any) -> CaseEvent:
        names = {f.name for f in dataclasses.fields(CaseSnapshot)}
        snap = {k: overrides.pop(k) for k in list(overrides) if k in names}
        snapshot = CaseSnapshot(
            state=CaseState.SUBMITTED,
            item_code=HOUSING_WITHDRAWAL,
            handling_mode=HandlingMode.FULLY_ONLINE,
            owner_region=RUDONG,
            step_owner=RUDONG,
            applicant=Applicant(ApplicantKind.PERSON, "张三", id_number="320623199001010000"),
            materials=(),
            submitted_at=datetime(2026, 3, 2, 1, tzinfo=UTC),
            promised_deadline=date(2026, 3, 5),
        )
        event = CaseEvent(
            event_id=str(uuid.uuid4()),
            event_type=EventType.CASE_SUBMITTED,
            case_id="320623-2026-0000001",
            case_version=1,
            source_region=RUDONG,
            occurred_at=datetime(2026, 3, 2, 1, tzinfo=UTC),
            correlation_id="320623-2026-0000001",
            causation_id=None,
            target_regions=(TONGXIANG,),
            snapshot=dataclasses.replace(snapshot, **snap),
        )
        return dataclasses.replace(event, **overrides)

    return build


def record_at(
    offset: int,
    partition: int = 0,
    value: bytes | None = b"x",
    headers: tuple[tuple[str, bytes], ...] = ROUTING,
) -> Incoming:
    """A record Rudong sent to Tongxiang's inbox, at ``offset``."""
    return Incoming(TOPIC, partition, offset, b"k", value, headers)
