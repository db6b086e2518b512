"""Pure core of the producer: a requested change plus the case's current state → the event.

No I/O here: the PostgreSQL recorder (``producers.recorder``) reads the current state, calls
``build_event`` and writes what it returns.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from casesync.domain.catalogue import Catalogue
from casesync.domain.events import Applicant, CaseEvent, CaseSnapshot, Material, WorkflowStep
from casesync.domain.lifecycle import next_state
from casesync.domain.validation import validate_outgoing
from casesync.domain.vocabulary import EventType, HandlingMode, MaterialStatus
from casesync.domain.workdays import WorkingCalendar, china_date
from producers.errors import ConcurrentChange, InvalidChange, NotOwner


@dataclass(frozen=True, slots=True)
class CaseChange:
    """One change a regional system asks to record. ``expected_version`` 0 means a new case."""

    case_id: str
    event_type: EventType
    expected_version: int
    occurred_at: datetime
    item_code: str | None = None  # new cases only
    handling_mode: HandlingMode | None = None  # new cases only
    applicant: Applicant | None = None  # new cases only
    materials: tuple[Material, ...] | None = None  # replaces the materials when given
    step_owner: str | None = None  # whose move it is next; defaults to the acting region
    workflow_step: WorkflowStep | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    event_id: str | None = None  # generated when None
    # The partner regions this case involves (e.g. the transfer-out region of a pension
    # transfer). New cases only; None shares it with every region that has the item in an
    # agreement with this one. Each must share the item, or the change is refused.
    target_regions: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class CurrentCase:
    """What the recorder read of an existing case."""

    version: int
    snapshot: CaseSnapshot
    correlation_id: str
    target_regions: tuple[str, ...]


def build_event(
    region: str,
    change: CaseChange,
    current: CurrentCase | None,
    catalogue: Catalogue,
    calendar: WorkingCalendar,
) -> CaseEvent:
    """The event ``region`` publishes for ``change``; typed errors when it may not happen."""
    actual = None if current is None else current.version
    if change.expected_version != (actual or 0):
        raise ConcurrentChange(change.case_id, change.expected_version, actual)
    if current is None:
        snapshot, correlation = _new_case(region, change, catalogue, calendar), change.case_id
    else:
        if current.snapshot.owner_region != region:
            raise NotOwner(
                f"case {change.case_id} is owned by {current.snapshot.owner_region}, not {region}"
            )
        snapshot, correlation = (
            _changed_case(region, change, current.snapshot),
            current.correlation_id,
        )
    if current is not None:
        targets: tuple[str, ...] = current.target_regions
    elif change.target_regions is not None:
        targets = tuple(sorted(set(change.target_regions)))
    else:
        on = china_date(change.occurred_at)
        targets = tuple(sorted(catalogue.targets_for(snapshot.item_code, region, on)))
    event = CaseEvent(
        event_id=change.event_id or str(uuid.uuid4()),
        event_type=change.event_type,
        case_id=change.case_id,
        case_version=change.expected_version + 1,
        source_region=region,
        occurred_at=change.occurred_at,
        correlation_id=change.correlation_id or correlation,
        causation_id=change.causation_id,
        target_regions=targets,
        snapshot=snapshot,
    )
    validate_outgoing(event, catalogue)
    return event


def _new_case(
    region: str, change: CaseChange, catalogue: Catalogue, calendar: WorkingCalendar
) -> CaseSnapshot:
    if change.item_code is None or change.handling_mode is None or change.applicant is None:
        raise InvalidChange(
            f"case {change.case_id}: a new case needs item_code, handling_mode and applicant"
        )
    item = catalogue.item(change.item_code)
    state = next_state(change.handling_mode, None, change.event_type)
    materials = change.materials
    if materials is None:
        materials = tuple(
            Material(spec.code, spec.name, MaterialStatus.SUBMITTED)
            for spec in catalogue.materials_for(item.code, region)
        )
    return CaseSnapshot(
        state=state,
        item_code=item.code,
        handling_mode=change.handling_mode,
        owner_region=region,
        step_owner=change.step_owner or region,
        applicant=change.applicant,
        materials=materials,
        submitted_at=change.occurred_at,
        promised_deadline=calendar.promised_deadline(change.occurred_at, item.time_limit_days),
        workflow_step=change.workflow_step,
    )


def _changed_case(region: str, change: CaseChange, current: CaseSnapshot) -> CaseSnapshot:
    if change.item_code not in (None, current.item_code) or change.handling_mode not in (
        None,
        current.handling_mode,
    ):
        raise InvalidChange(f"case {change.case_id}: item and handling mode cannot change")
    return CaseSnapshot(
        state=next_state(current.handling_mode, current.state, change.event_type),
        item_code=current.item_code,
        handling_mode=current.handling_mode,
        owner_region=current.owner_region,
        step_owner=change.step_owner or region,
        applicant=change.applicant or current.applicant,
        materials=current.materials if change.materials is None else change.materials,
        submitted_at=current.submitted_at,
        promised_deadline=current.promised_deadline,
        workflow_step=change.workflow_step or current.workflow_step,
    )
