"""Factories for domain tests: the shipped catalogue and calendar, and a CaseEvent builder."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from casesync.domain.catalogue import Catalogue
from casesync.domain.events import Applicant, CaseEvent, CaseSnapshot
from casesync.domain.holidays import shipped_calendar
from casesync.domain.loading import shipped_catalogue
from casesync.domain.vocabulary import ApplicantKind, CaseState, EventType, HandlingMode
from casesync.domain.workdays import WorkingCalendar

RUDONG = "320623"
TONGXIANG = "330483"
SUZHOU = "320500"
YINCHUAN = "640100"
PENSION_TRANSFER = "002019001000"  # 企业职工基本养老保险关系转移接续
MEDICAL_TRANSFER = "002033003000"  # 基本医疗保险关系转移接续
PARTNERSHIP_SETUP = "000131001003"  # 合伙企业设立登记
VEHICLE_INSPECTION = "002010010000"  # 机动车检验合格标志核发 (车辆年检)
FAKE_ID_NUMBER = "11010519491231002X"

EventFactory = Callable[..., CaseEvent]


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The catalogue built from the packaged data files."""
    return shipped_catalogue()


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    """The calendar built from the packaged holiday file."""
    return shipped_calendar()


@pytest.fixture
def make_event() -> EventFactory:
    """Build a valid Rudong pension-transfer CaseEvent; keyword overrides replace fields.

    Snapshot fields may be overridden directly (``item_code=…``, ``state=…``).
    """

    def build(**overrides: Any) -> CaseEvent:
        snapshot_fields = {f.name for f in dataclasses.fields(CaseSnapshot)}
        snapshot_overrides = {k: overrides.pop(k) for k in list(overrides) if k in snapshot_fields}
        snapshot = CaseSnapshot(
            state=CaseState.SUBMITTED,
            item_code=PENSION_TRANSFER,
            handling_mode=HandlingMode.JOINT,
            owner_region=RUDONG,
            step_owner=RUDONG,
            applicant=Applicant(ApplicantKind.PERSON, "张三", id_number=FAKE_ID_NUMBER),
            materials=(),
            submitted_at=datetime(2025, 3, 3, 2, 0, tzinfo=UTC),
            promised_deadline=date(2025, 5, 9),
        )
        event = CaseEvent(
            event_id="6f1c2a9e-0000-4000-8000-000000000001",
            event_type=EventType.CASE_SUBMITTED,
            case_id="c-320623-2025-0001",
            case_version=1,
            source_region=RUDONG,
            occurred_at=datetime(2025, 3, 3, 2, 0, tzinfo=UTC),
            correlation_id="corr-1",
            causation_id=None,
            target_regions=(TONGXIANG,),
            snapshot=dataclasses.replace(snapshot, **snapshot_overrides),
        )
        return dataclasses.replace(event, **overrides)

    return build
