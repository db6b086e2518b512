"""Pure core of encoding SQL-recorded changes: an outbox row's ``pending_event`` JSON (written by
``casesync_api.record_change``) back to the CaseEvent the Python recorder would have built.

Whatever SQL could not decide is decided here, with the same checks the Python recorder runs
(``validate_outgoing``); a failure is a typed reason to keep the row refused, never a crash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casesync.contract.errors import ContractError
from casesync.domain.catalogue import Catalogue
from casesync.domain.events import CaseEvent
from casesync.domain.validation import validate_outgoing
from casesync.domain.vocabulary import EventType
from casesync.errors import CasesyncError
from casesync.snapshots import snapshot_from_json
from producers.errors import RefusedChange

# Errors of reading a malformed pending event or encoding it; each becomes a refusal. Their
# messages name fields, symbols and codes, never an applicant's identifiers.
_REFUSALS = (CasesyncError, ContractError, ValueError, KeyError, TypeError)


def event_from_pending(data: dict[str, Any], catalogue: Catalogue) -> CaseEvent:
    """The checked event of one pending outbox row; RefusedChange (with the reason) if it may
    not be published."""
    try:
        event = CaseEvent(
            event_id=str(data["event_id"]),
            event_type=EventType(data["event_type"]),
            case_id=data["case_id"],
            case_version=int(data["case_version"]),
            source_region=data["source_region"],
            occurred_at=datetime.fromisoformat(data["occurred_at"]),
            correlation_id=data["correlation_id"],
            causation_id=data["causation_id"],
            target_regions=tuple(data["target_regions"]),
            snapshot=snapshot_from_json(data["snapshot"]),
        )
        validate_outgoing(event, catalogue)
    except _REFUSALS as e:
        raise RefusedChange(refusal_reason(e)) from e
    return event


def refusal_reason(error: BaseException) -> str:
    """One line a regional system reads in ``casesync_api.refused_changes``."""
    if isinstance(error, KeyError):
        return f"the recorded event lacks the field {error.args[0]}"
    return f"{type(error).__name__}: {error}"
