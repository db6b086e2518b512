"""The case event: what one region did to one case, carrying the case's shareable snapshot.

Event-carried state: a partner can rebuild its mirror of a case from the latest event alone.
These are plain frozen values; ``casesync.contract`` maps them to and from Avro.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from casesync.domain.vocabulary import (
    ApplicantKind,
    CaseState,
    EventType,
    HandlingMode,
    MaterialStatus,
)


@dataclass(frozen=True, slots=True)
class Applicant:
    """The applicant, minimised to what the item needs (ID numbers are personal data)."""

    kind: ApplicantKind
    name: str
    id_number: str | None = None  # 居民身份证号码, only when the item requires it
    credit_code: str | None = None  # 统一社会信用代码, for companies


@dataclass(frozen=True, slots=True)
class Material:
    """One material of a case: its catalogue code, status and a digest of its content."""

    code: str
    name: str
    status: MaterialStatus
    digest: str | None = None  # sha256 hex of the document, never the document itself


@dataclass(frozen=True, slots=True)
class WorkflowStep:
    """Position of a case inside a declared multi-region workflow (多地联办)."""

    workflow: str  # workflow id in the catalogue, e.g. "medical-insurance-transfer"
    step: int  # 1-based step number
    name: str
    owner_region: str  # the region that must do this step
    due: date | None = None


@dataclass(frozen=True, slots=True)
class CaseSnapshot:
    """The case's full shareable state after the change."""

    state: CaseState
    item_code: str  # national basic code (基本编码, GB/T 39554.1), 12 characters
    handling_mode: HandlingMode
    owner_region: str  # region that owns the case (where it was filed)
    step_owner: str  # region whose move it is next
    applicant: Applicant
    materials: tuple[Material, ...]
    submitted_at: datetime
    promised_deadline: date  # 承诺办结时限, in calendar terms after working-day arithmetic
    workflow_step: WorkflowStep | None = None


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One thing one region did to one case."""

    event_id: str  # UUID, unique across all regions
    event_type: EventType
    case_id: str  # unique across all regions
    case_version: int  # 1 for the first event of a case, +1 per change
    source_region: str  # GB/T 2260 code of the acting region; must own the topic it is on
    occurred_at: datetime  # timezone-aware UTC
    correlation_id: str  # ties every event of one piece of work together
    causation_id: str | None  # the event that caused this one, if any
    target_regions: tuple[str, ...]  # partner regions this event is shared with
    snapshot: CaseSnapshot
