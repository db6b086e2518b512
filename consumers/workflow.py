"""Multi-region workflows (多地联办) seen from one region's consumer: pure reactions.

A partner's event can ask this region for a step, or report a step this region asked for. The
reaction is a list of changes to this region's *own* cases (each region writes only its own),
recorded through its outbox in the same transaction as the mirror update and the position, so
the chain across regions is exactly-once end to end.

For a case C owned by region I, with a step k owned by partner region O:
  1. I records STEP_REQUESTED on C, its position on step k (owner O).
  2. O mirrors it and opens a task: its own case ``task_case_id(C, k)`` (correlation of C,
     caused by the request), SUBMITTED then ACCEPTED; an automatic step is also answered at once
     (REVIEW_STARTED, CASE_APPROVED with the documents the step issues, as digests).
     A manual step waits for O's operator, who approves the task in O's own system.
  3. I mirrors the task's approval and records STEP_COMPLETED on C, then walks on: I's own
     automatic steps pass, a partner's step is requested (back to 1), and after the last step C
     is approved and its result delivered. A manual step of I's stops the walk for its operator.
A withdrawal of C withdraws O's open task. Refusals and denials of a task are left to operators.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from casesync.domain.catalogue import Catalogue
from casesync.domain.events import CaseEvent, CaseSnapshot, Material
from casesync.domain.lifecycle import allowed_events
from casesync.domain.vocabulary import EventType, MaterialStatus
from casesync.domain.workflows import CaseWorkflow
from producers.changes import CaseChange

TASK_SEPARATOR = "~"
DOCUMENT_PREFIX = "document:"
_EVENT_IDS = uuid.UUID("5d0c3a52-8f35-4c0e-9d5e-2a7c1f0b6e41")  # namespace of reaction ids


@dataclass(frozen=True, slots=True)
class LocalCase:
    """One of this region's own cases, as its ``cases`` table holds it."""

    version: int
    snapshot: CaseSnapshot


def task_case_id(parent_case_id: str, step: int) -> str:
    """The id of the task a region opens for step ``step`` of a partner's case."""
    return f"{parent_case_id}{TASK_SEPARATOR}{step}"


def parent_of_task(case_id: str) -> tuple[str, int] | None:
    """(parent case id, step) for a task id, None for any other case id."""
    parent, separator, step = case_id.rpartition(TASK_SEPARATOR)
    if not separator or not parent or not step.isdigit():
        return None
    return parent, int(step)


def may_react(event: CaseEvent, region: str) -> bool:
    """Cheap filter: only events on a workflow step can ask or answer anything."""
    return event.snapshot.workflow_step is not None and event.source_region != region


def local_cases_needed(event: CaseEvent, region: str) -> frozenset[str]:
    """The ids of this region's own cases ``react`` needs to see for ``event``."""
    step = event.snapshot.workflow_step
    if step is None or event.source_region == region:
        return frozenset()
    wanted = set()
    if step.owner_region == region:
        wanted.add(task_case_id(event.case_id, step.step))
    parent = parent_of_task(event.case_id)
    if parent is not None:
        wanted.add(parent[0])
    return frozenset(wanted)


def react(
    event: CaseEvent,
    region: str,
    catalogue: Catalogue,
    local: Mapping[str, LocalCase],
    now: datetime,
) -> list[CaseChange]:
    """The changes ``region`` makes to its own cases in answer to a mirrored ``event``."""
    if not may_react(event, region):
        return []
    ids = _ReactionIds(event.event_id)
    if event.event_type is EventType.STEP_REQUESTED:
        return _open_task(event, region, catalogue, local, now, ids)
    if event.event_type is EventType.CASE_WITHDRAWN:
        return _withdraw_task(event, region, local, now, ids)
    if event.event_type is EventType.CASE_APPROVED:
        return _step_done(event, region, catalogue, local, now, ids)
    return []


class _ReactionIds:
    """Deterministic event ids: the n-th reaction to one event always gets the same id."""

    def __init__(self, trigger: str) -> None:
        self._trigger = trigger
        self._n = 0

    def __call__(self) -> str:
        self._n += 1
        return str(uuid.uuid5(_EVENT_IDS, f"{self._trigger}/{self._n}"))


def _open_task(
    event: CaseEvent,
    region: str,
    catalogue: Catalogue,
    local: Mapping[str, LocalCase],
    now: datetime,
    ids: _ReactionIds,
) -> list[CaseChange]:
    step = event.snapshot.workflow_step
    assert step is not None  # checked by may_react
    if step.owner_region != region:
        return []
    task = task_case_id(event.case_id, step.step)
    if task in local:
        return []  # asked again: the task exists already
    spec = catalogue.workflow(step.workflow).step(step.step)
    snapshot = event.snapshot

    def change(event_type: EventType, version: int, **fields: Any) -> CaseChange:
        return CaseChange(
            case_id=task,
            event_type=event_type,
            expected_version=version,
            occurred_at=now,
            step_owner=region,
            causation_id=event.event_id,
            event_id=ids(),
            **fields,
        )

    changes = [
        change(
            EventType.CASE_SUBMITTED,
            0,
            item_code=snapshot.item_code,
            handling_mode=snapshot.handling_mode,
            applicant=snapshot.applicant,
            workflow_step=step,
            correlation_id=event.correlation_id,
            # The task answers the requesting region, in its inbox, and no other region.
            target_regions=(event.source_region,),
        ),
        change(EventType.CASE_ACCEPTED, 1),
    ]
    if spec.automatic:
        required = catalogue.materials_for(snapshot.item_code, region)
        materials = tuple(Material(m.code, m.name, MaterialStatus.ACCEPTED) for m in required)
        issued = tuple(
            Material(
                f"{DOCUMENT_PREFIX}{name}",
                name,
                MaterialStatus.ACCEPTED,
                hashlib.sha256(f"{task}/{name}".encode()).hexdigest(),
            )
            for name in spec.documents
        )
        changes.append(change(EventType.REVIEW_STARTED, 2))
        changes.append(
            replace(
                change(EventType.CASE_APPROVED, 3, materials=materials + issued),
                step_owner=event.source_region,  # back to the requesting region
            )
        )
    return changes


def _withdraw_task(
    event: CaseEvent,
    region: str,
    local: Mapping[str, LocalCase],
    now: datetime,
    ids: _ReactionIds,
) -> list[CaseChange]:
    step = event.snapshot.workflow_step
    assert step is not None
    task = local.get(task_case_id(event.case_id, step.step))
    if task is None or step.owner_region != region:
        return []
    snapshot = task.snapshot
    if EventType.CASE_WITHDRAWN not in allowed_events(snapshot.handling_mode, snapshot.state):
        return []  # already decided or closed: the operators settle it
    return [
        CaseChange(
            case_id=task_case_id(event.case_id, step.step),
            event_type=EventType.CASE_WITHDRAWN,
            expected_version=task.version,
            occurred_at=now,
            step_owner=region,
            causation_id=event.event_id,
            event_id=ids(),
        )
    ]


def _step_done(
    event: CaseEvent,
    region: str,
    catalogue: Catalogue,
    local: Mapping[str, LocalCase],
    now: datetime,
    ids: _ReactionIds,
) -> list[CaseChange]:
    found = parent_of_task(event.case_id)
    if found is None:
        return []
    parent_id, number = found
    parent = local.get(parent_id)
    if parent is None:
        return []
    position = parent.snapshot.workflow_step
    if (
        parent.snapshot.owner_region != region
        or position is None
        or position.step != number
        or position.owner_region != event.source_region
        or EventType.STEP_COMPLETED
        not in allowed_events(parent.snapshot.handling_mode, parent.snapshot.state)
    ):
        return []  # not waiting for this step (any more): nothing to answer
    workflow = catalogue.workflow(position.workflow)
    documents = tuple(m for m in event.snapshot.materials if m.code.startswith(DOCUMENT_PREFIX))
    known = {m.code for m in parent.snapshot.materials}
    version = parent.version

    def change(event_type: EventType, **fields: Any) -> CaseChange:
        nonlocal version
        version += 1
        return CaseChange(
            case_id=parent_id,
            event_type=event_type,
            expected_version=version - 1,
            occurred_at=now,
            causation_id=event.event_id,
            event_id=ids(),
            **fields,
        )

    changes = [
        change(
            EventType.STEP_COMPLETED,
            step_owner=region,
            workflow_step=position,
            materials=parent.snapshot.materials
            + tuple(d for d in documents if d.code not in known),
        )
    ]
    roles = {workflow.step(1).role: region, workflow.step(number).role: event.source_region}
    if set(roles) != set(workflow.roles):
        return changes  # a role no event names yet: the operators go on
    bound: CaseWorkflow = workflow.bind(**roles)
    done = number
    following = bound.next_step(done)
    while following is not None and following.owner_region == region and following.spec.automatic:
        done = following.number
        following = bound.next_step(done)
    if following is None:
        final = bound.event_step(done)
        changes.append(change(EventType.CASE_APPROVED, step_owner=region, workflow_step=final))
        changes.append(change(EventType.RESULT_DELIVERED, step_owner=region))
    elif following.owner_region != region:
        changes.append(
            change(
                EventType.STEP_REQUESTED,
                step_owner=following.owner_region,
                workflow_step=bound.event_step(following.number),
            )
        )
    return changes
