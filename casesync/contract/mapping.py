"""``CaseEvent`` ↔ plain Avro record (the dict fastavro writes and reads).

Written out field by field on purpose: no reflection per message. Enum symbols go through
prebuilt lookup tables; a symbol the domain does not know (the schema default ``UNKNOWN``, read
when a newer writer used a newer symbol) becomes ``UnknownSymbol`` instead of a bad value.

Fields of later schema versions that ``CaseEvent`` does not carry (v2 ``local_reference``) are
left out when encoding, so fastavro writes their default, and ignored when decoding.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from casesync.contract.codegen import Binding
from casesync.contract.errors import UnknownSymbol
from casesync.domain.events import Applicant, CaseEvent, CaseSnapshot, Material, WorkflowStep
from casesync.domain.vocabulary import (
    ApplicantKind,
    CaseState,
    EventType,
    HandlingMode,
    MaterialStatus,
)

AvroRecord = dict[str, Any]

_E = TypeVar("_E", bound=StrEnum)


def _table(enum: type[_E]) -> dict[str, _E]:
    return {member.value: member for member in enum}


_EVENT_TYPES = _table(EventType)
_CASE_STATES = _table(CaseState)
_HANDLING_MODES = _table(HandlingMode)
_MATERIAL_STATUSES = _table(MaterialStatus)
_APPLICANT_KINDS = _table(ApplicantKind)


def _symbol(table: dict[str, _E], symbol: str, field: str) -> _E:
    try:
        return table[symbol]
    except KeyError:
        raise UnknownSymbol(
            f"{field} symbol {symbol!r} is not in this reader's vocabulary"
        ) from None


_NAMESPACE = "casesync.event."

# The same mapping for the generated codecs: schema names match the dataclass field names, enums
# are StrEnums of the schema's symbols (less UNKNOWN), arrays become tuples.
CASE_EVENT_BINDING = Binding(
    records=tuple(
        (_NAMESPACE + cls.__name__, cls)
        for cls in (CaseEvent, CaseSnapshot, Applicant, Material, WorkflowStep)
    ),
    enums=tuple(
        (_NAMESPACE + cls.__name__, cls)
        for cls in (EventType, CaseState, HandlingMode, MaterialStatus, ApplicantKind)
    ),
)


def event_to_record(event: CaseEvent) -> AvroRecord:
    """The Avro record of ``event``; StrEnum members are written as their symbols."""
    snapshot = event.snapshot
    applicant = snapshot.applicant
    step = snapshot.workflow_step
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "case_id": event.case_id,
        "case_version": event.case_version,
        "source_region": event.source_region,
        "occurred_at": event.occurred_at,
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
        "target_regions": list(event.target_regions),
        "snapshot": {
            "state": snapshot.state,
            "item_code": snapshot.item_code,
            "handling_mode": snapshot.handling_mode,
            "owner_region": snapshot.owner_region,
            "step_owner": snapshot.step_owner,
            "applicant": {
                "kind": applicant.kind,
                "name": applicant.name,
                "id_number": applicant.id_number,
                "credit_code": applicant.credit_code,
            },
            "materials": [
                {"code": m.code, "name": m.name, "status": m.status, "digest": m.digest}
                for m in snapshot.materials
            ],
            "submitted_at": snapshot.submitted_at,
            "promised_deadline": snapshot.promised_deadline,
            "workflow_step": None
            if step is None
            else {
                "workflow": step.workflow,
                "step": step.step,
                "name": step.name,
                "owner_region": step.owner_region,
                "due": step.due,
            },
        },
    }


def record_to_event(record: AvroRecord) -> CaseEvent:
    """The ``CaseEvent`` of a record decoded against the reader schema."""
    snapshot = record["snapshot"]
    applicant = snapshot["applicant"]
    step = snapshot["workflow_step"]
    return CaseEvent(
        event_id=record["event_id"],
        event_type=_symbol(_EVENT_TYPES, record["event_type"], "event_type"),
        case_id=record["case_id"],
        case_version=record["case_version"],
        source_region=record["source_region"],
        occurred_at=record["occurred_at"],
        correlation_id=record["correlation_id"],
        causation_id=record["causation_id"],
        target_regions=tuple(record["target_regions"]),
        snapshot=CaseSnapshot(
            state=_symbol(_CASE_STATES, snapshot["state"], "state"),
            item_code=snapshot["item_code"],
            handling_mode=_symbol(_HANDLING_MODES, snapshot["handling_mode"], "handling_mode"),
            owner_region=snapshot["owner_region"],
            step_owner=snapshot["step_owner"],
            applicant=Applicant(
                kind=_symbol(_APPLICANT_KINDS, applicant["kind"], "applicant.kind"),
                name=applicant["name"],
                id_number=applicant["id_number"],
                credit_code=applicant["credit_code"],
            ),
            materials=tuple(
                Material(
                    code=m["code"],
                    name=m["name"],
                    status=_symbol(_MATERIAL_STATUSES, m["status"], "material.status"),
                    digest=m["digest"],
                )
                for m in snapshot["materials"]
            ),
            submitted_at=snapshot["submitted_at"],
            promised_deadline=snapshot["promised_deadline"],
            workflow_step=None
            if step is None
            else WorkflowStep(
                workflow=step["workflow"],
                step=step["step"],
                name=step["name"],
                owner_region=step["owner_region"],
                due=step["due"],
            ),
        ),
    )
