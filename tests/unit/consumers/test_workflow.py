"""Workflow answers of one region to its partner's events (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from casesync.domain.catalogue import Catalogue
from casesync.domain.events import CaseEvent, Material
from casesync.domain.vocabulary import CaseState, EventType, HandlingMode, MaterialStatus
from casesync.domain.workflows import CaseWorkflow, StepSpec
from consumers.workflow import (
    DOCUMENT_PREFIX,
    LocalCase,
    local_cases_needed,
    parent_of_task,
    react,
    task_case_id,
)

from .conftest import MEDICAL_TRANSFER, RUDONG, TONGXIANG, EventFactory

NOW = datetime(2026, 3, 9, 2, tzinfo=UTC)
CURRENT = "medical-insurance-transfer-2021"
MAILED = "medical-insurance-transfer-2016"


def _bound(catalogue: Catalogue, workflow: str = CURRENT) -> CaseWorkflow:
    return catalogue.workflow(workflow).bind(transfer_in=RUDONG, transfer_out=TONGXIANG)


def _request(make_event: EventFactory, bound: CaseWorkflow, step: int) -> CaseEvent:
    """Rudong's STEP_REQUESTED asking Tongxiang for ``step`` of case C."""
    return make_event(
        case_id="C", case_version=3, event_type=EventType.STEP_REQUESTED,
        state=CaseState.UNDER_REVIEW, item_code=MEDICAL_TRANSFER,
        handling_mode=HandlingMode.JOINT, step_owner=TONGXIANG,
        workflow_step=bound.event_step(step), correlation_id="corr-C",
    )  # fmt: skip


def _parent(catalogue: Catalogue, make_event: EventFactory, step: int, workflow: str) -> LocalCase:
    """Rudong's own case C, waiting for Tongxiang's ``step``."""
    snapshot = _request(make_event, _bound(catalogue, workflow), step).snapshot
    return LocalCase(3, snapshot)


def _task_approved(make_event: EventFactory, bound: CaseWorkflow, step: int) -> CaseEvent:
    """Tongxiang's approval of its task for ``step`` of C, with the issued form."""
    form = Material(
        f"{DOCUMENT_PREFIX}变更信息表", "变更信息表", MaterialStatus.ACCEPTED, "ab" * 32
    )
    return make_event(
        case_id=task_case_id("C", step), case_version=4, event_type=EventType.CASE_APPROVED,
        state=CaseState.APPROVED, item_code=MEDICAL_TRANSFER, handling_mode=HandlingMode.JOINT,
        source_region=TONGXIANG, owner_region=TONGXIANG, target_regions=(RUDONG,),
        workflow_step=bound.event_step(step), materials=(form,),
    )  # fmt: skip


def test_task_ids_name_their_parent_and_step() -> None:
    """A task id maps back to (parent, step); other ids map to None."""
    assert parent_of_task(task_case_id("320623-2026-1", 3)) == ("320623-2026-1", 3)
    assert parent_of_task("320623-2026-1") is None
    assert parent_of_task("a~b") is None


def test_request_for_a_manual_step_opens_an_accepted_task(
    catalogue: Catalogue, make_event: EventFactory
) -> None:
    """Tongxiang's manual transfer-out: the task is submitted and accepted, then waits."""
    request = _request(make_event, _bound(catalogue), 2)
    changes = react(request, TONGXIANG, catalogue, {}, NOW)
    assert [(c.case_id, c.event_type, c.expected_version) for c in changes] == [
        ("C~2", EventType.CASE_SUBMITTED, 0),
        ("C~2", EventType.CASE_ACCEPTED, 1),
    ]
    first = changes[0]
    assert (first.correlation_id, first.causation_id) == ("corr-C", request.event_id)
    assert first.workflow_step == request.snapshot.workflow_step


def test_request_for_an_automatic_step_is_answered_at_once(
    catalogue: Catalogue, make_event: EventFactory
) -> None:
    """An automatic step is approved in the same reaction, its documents carried as digests."""
    bound = _bound(catalogue)
    automatic = replace(
        bound.workflow,
        steps=tuple(
            replace(s, automatic=True, documents=("变更信息表",)) if s.number == 2 else s
            for s in bound.workflow.steps
        ),
    )
    catalogue_like = _CatalogueWith(catalogue, automatic.steps[1])
    changes = react(_request(make_event, bound, 2), TONGXIANG, catalogue_like, {}, NOW)  # type: ignore[arg-type]
    assert [c.event_type for c in changes] == [
        EventType.CASE_SUBMITTED, EventType.CASE_ACCEPTED, EventType.REVIEW_STARTED,
        EventType.CASE_APPROVED,
    ]  # fmt: skip
    approval = changes[-1]
    assert approval.step_owner == RUDONG
    assert approval.materials is not None
    issued = [m for m in approval.materials if m.code.startswith(DOCUMENT_PREFIX)]
    assert [m.name for m in issued] == ["变更信息表"]
    assert issued[0].digest is not None
    assert len(issued[0].digest) == 64


def test_request_answered_once_even_if_asked_again(
    catalogue: Catalogue, make_event: EventFactory
) -> None:
    """When the task exists already, the request changes nothing."""
    request = _request(make_event, _bound(catalogue), 2)
    local = {"C~2": LocalCase(2, request.snapshot)}
    assert local_cases_needed(request, TONGXIANG) == {"C~2"}
    assert react(request, TONGXIANG, catalogue, local, NOW) == []


def test_reactions_have_deterministic_event_ids(
    catalogue: Catalogue, make_event: EventFactory
) -> None:
    """The same trigger always yields the same answer ids (a replay is recognisable)."""
    request = _request(make_event, _bound(catalogue), 2)
    first = react(request, TONGXIANG, catalogue, {}, NOW)
    again = react(request, TONGXIANG, catalogue, {}, NOW)
    assert [c.event_id for c in first] == [c.event_id for c in again]
    assert len({c.event_id for c in first}) == 2


def test_partner_step_done_completes_approves_and_delivers(
    catalogue: Catalogue, make_event: EventFactory
) -> None:
    """2021 rule: after Tongxiang's transfer-out, Rudong's automatic transfer-in finishes C."""
    approved = _task_approved(make_event, _bound(catalogue), 2)
    local = {"C": _parent(catalogue, make_event, 2, CURRENT)}
    assert local_cases_needed(approved, RUDONG) == {"C"}
    changes = react(approved, RUDONG, catalogue, local, NOW)
    assert [(c.event_type, c.expected_version) for c in changes] == [
        (EventType.STEP_COMPLETED, 3), (EventType.CASE_APPROVED, 4),
        (EventType.RESULT_DELIVERED, 5),
    ]  # fmt: skip
    assert changes[0].materials is not None
    assert any(m.digest == "ab" * 32 for m in changes[0].materials)
    assert changes[1].workflow_step is not None
    assert changes[1].workflow_step.step == 3


def test_four_step_procedure_stops_for_the_manual_transfer_in(
    catalogue: Catalogue, make_event: EventFactory
) -> None:
    """2016 rule: after Tongxiang's step 3, step 4 is Rudong's manual work: only completed."""
    approved = _task_approved(make_event, _bound(catalogue, MAILED), 3)
    local = {"C": _parent(catalogue, make_event, 3, MAILED)}
    changes = react(approved, RUDONG, catalogue, local, NOW)
    assert [c.event_type for c in changes] == [EventType.STEP_COMPLETED]


def test_approval_of_a_step_not_awaited_changes_nothing(
    catalogue: Catalogue, make_event: EventFactory
) -> None:
    """A task approval for a step the parent no longer waits for is not answered twice."""
    approved = _task_approved(make_event, _bound(catalogue), 2)
    parent = _parent(catalogue, make_event, 2, CURRENT)
    done = LocalCase(6, replace(parent.snapshot, state=CaseState.DELIVERED))
    assert react(approved, RUDONG, catalogue, {"C": done}, NOW) == []


def test_withdrawn_case_withdraws_the_open_task(
    catalogue: Catalogue, make_event: EventFactory
) -> None:
    """Rudong withdraws C: Tongxiang withdraws its accepted task; a decided task stays."""
    request = _request(make_event, _bound(catalogue), 2)
    withdrawn = replace(
        request, event_id="w", event_type=EventType.CASE_WITHDRAWN, case_version=4,
        snapshot=replace(request.snapshot, state=CaseState.WITHDRAWN),
    )  # fmt: skip
    open_task = LocalCase(2, replace(request.snapshot, state=CaseState.ACCEPTED))
    changes = react(withdrawn, TONGXIANG, catalogue, {"C~2": open_task}, NOW)
    assert [(c.case_id, c.event_type, c.expected_version) for c in changes] == [
        ("C~2", EventType.CASE_WITHDRAWN, 2)
    ]
    decided = LocalCase(4, replace(request.snapshot, state=CaseState.APPROVED))
    assert react(withdrawn, TONGXIANG, catalogue, {"C~2": decided}, NOW) == []


def test_events_without_workflow_step_need_nothing(make_event: EventFactory) -> None:
    """Ordinary events need no local case and trigger no answer."""
    assert local_cases_needed(make_event(), TONGXIANG) == frozenset()


class _CatalogueWith:
    """The shipped catalogue with one step of the current transfer workflow replaced."""

    def __init__(self, catalogue: Catalogue, step: StepSpec) -> None:
        self._catalogue = catalogue
        self._step = step

    def workflow(self, workflow_id: str):  # type: ignore[no-untyped-def]
        workflow = self._catalogue.workflow(workflow_id)
        steps = tuple(self._step if s.number == self._step.number else s for s in workflow.steps)
        return replace(workflow, steps=steps)

    def materials_for(self, item: str, region: str):  # type: ignore[no-untyped-def]
        return self._catalogue.materials_for(item, region)
