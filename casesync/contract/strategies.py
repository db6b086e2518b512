"""Hypothesis strategies for case events, shared by the contract tests and anyone else's.

Values stay inside what the contract can carry: aware UTC datetimes with microseconds, dates in
range of Avro ``date``, 64-bit case versions, 32-bit step numbers, any Unicode text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import strategies as st

from casesync.domain.events import Applicant, CaseEvent, CaseSnapshot, Material, WorkflowStep
from casesync.domain.vocabulary import (
    ApplicantKind,
    CaseState,
    EventType,
    HandlingMode,
    MaterialStatus,
)

REGION_CODES = ("320500", "640100", "320300", "371300", "411400", "340600", "320623", "330483")

regions = st.sampled_from(REGION_CODES)
texts = st.text(max_size=40)
optional_texts = st.none() | texts
ids = st.uuids().map(str)
utc_datetimes = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1))
item_codes = st.text(alphabet="0123456789ABCDEF", min_size=12, max_size=12)
digests = st.none() | st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)

applicants = st.builds(
    Applicant,
    kind=st.sampled_from(ApplicantKind),
    name=texts,
    id_number=optional_texts,
    credit_code=optional_texts,
)
materials = st.builds(
    Material,
    code=texts,
    name=texts,
    status=st.sampled_from(MaterialStatus),
    digest=digests,
)
workflow_steps = st.builds(
    WorkflowStep,
    workflow=texts,
    step=st.integers(min_value=1, max_value=2**31 - 1),
    name=texts,
    owner_region=regions,
    due=st.none() | dates,
)


def case_snapshots(handling_mode: HandlingMode | None = None) -> st.SearchStrategy[CaseSnapshot]:
    """Snapshots in any state; joint handling always sits on a workflow step."""
    modes = st.sampled_from(HandlingMode) if handling_mode is None else st.just(handling_mode)
    return modes.flatmap(
        lambda mode: st.builds(
            CaseSnapshot,
            state=st.sampled_from(CaseState),
            item_code=item_codes,
            handling_mode=st.just(mode),
            owner_region=regions,
            step_owner=regions,
            applicant=applicants,
            materials=st.lists(materials, max_size=4).map(tuple),
            submitted_at=utc_datetimes,
            promised_deadline=dates,
            workflow_step=workflow_steps
            if mode is HandlingMode.JOINT
            else st.none() | workflow_steps,
        )
    )


def case_events(
    event_type: EventType | None = None, handling_mode: HandlingMode | None = None
) -> st.SearchStrategy[CaseEvent]:
    """Case events, optionally pinned to one event type and one handling mode."""
    return st.builds(
        CaseEvent,
        event_id=ids,
        event_type=st.sampled_from(EventType) if event_type is None else st.just(event_type),
        case_id=ids,
        case_version=st.integers(min_value=1, max_value=2**63 - 1),
        source_region=regions,
        occurred_at=utc_datetimes,
        correlation_id=ids,
        causation_id=st.none() | ids,
        target_regions=st.lists(regions, max_size=4, unique=True).map(tuple),
        snapshot=case_snapshots(handling_mode),
    )


def corrupt(data: st.DataObject, message: bytes, keep: int, min_flips: int = 0) -> bytes:
    """``message`` with up to three bytes flipped after its first ``keep`` bytes, cut anywhere
    after them, and up to four random bytes appended: what a damaged record looks like."""
    damaged = bytearray(message)
    for _ in range(data.draw(st.integers(min_value=min_flips, max_value=3), label="flips")):
        index = data.draw(st.integers(min_value=keep, max_value=len(damaged) - 1), label="at")
        damaged[index] ^= data.draw(st.integers(min_value=1, max_value=255), label="mask")
    cut = data.draw(st.integers(min_value=keep, max_value=len(damaged)), label="cut")
    return bytes(damaged[:cut]) + data.draw(st.binary(max_size=4), label="tail")
