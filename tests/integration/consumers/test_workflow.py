"""The medical-insurance transfer runs between Rudong (transfer-in) and Tongxiang (transfer-out)."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import timedelta

import pytest

from casesync.domain.events import CaseEvent, Material
from casesync.domain.loading import shipped_catalogue
from casesync.domain.vocabulary import EventType, HandlingMode, MaterialStatus
from consumers.workflow import DOCUMENT_PREFIX, task_case_id
from producers.changes import CaseChange

from .conftest import MEDICAL_TRANSFER, RUDONG, START, TONGXIANG, World, person

pytestmark = pytest.mark.integration

FORM = "参保人员基本医疗保险类型变更信息表"


def _request_transfer_out(world: World, case_id: str) -> list[CaseEvent]:
    """Rudong's window: the insured person applies, Rudong accepts and asks Tongxiang (step 2);
    returns the three events."""
    flow = shipped_catalogue().workflow_for(MEDICAL_TRANSFER, START.date())
    bound = flow.bind(transfer_in=RUDONG, transfer_out=TONGXIANG)
    at = START
    events = world.region(RUDONG).record(
        [
            CaseChange(case_id, EventType.CASE_SUBMITTED, 0, at, item_code=MEDICAL_TRANSFER,
                       handling_mode=HandlingMode.JOINT, applicant=person(9),
                       workflow_step=bound.event_step(1)),
            CaseChange(case_id, EventType.CASE_ACCEPTED, 1, at + timedelta(minutes=5)),
            CaseChange(case_id, EventType.STEP_REQUESTED, 2, at + timedelta(minutes=6),
                       step_owner=TONGXIANG, workflow_step=bound.event_step(2)),
        ]
    )  # fmt: skip
    world.relay(RUDONG)
    return events


def test_transfer_runs_end_to_end_between_two_regions(world: World) -> None:
    """Tongxiang opens its task from Rudong's request; once Tongxiang's operator completes the
    transfer-out, Rudong's consumer completes the transfer-in, approves and delivers; each
    region's mirror then equals the other's own cases."""
    rudong, tongxiang = world.region(RUDONG), world.region(TONGXIANG)
    case_id = f"{RUDONG}-2026-MI-0001"
    _request_transfer_out(world, case_id)

    world.consume(TONGXIANG, until_idle=2.0)  # mirrors the request, opens the task
    task = task_case_id(case_id, 2)
    assert tongxiang.query("SELECT case_id, state, version, correlation_id FROM cases") == [
        (task, "ACCEPTED", 2, case_id)
    ]
    assert world.relay(TONGXIANG) == 2

    form = Material(f"{DOCUMENT_PREFIX}{FORM}", FORM, MaterialStatus.ACCEPTED,
                    hashlib.sha256(b"signed form").hexdigest())  # fmt: skip
    later = START + timedelta(days=3)
    tongxiang.record(  # Tongxiang's operator does the transfer-out (a manual step)
        [
            CaseChange(task, EventType.REVIEW_STARTED, 2, later),
            CaseChange(task, EventType.CASE_APPROVED, 3, later + timedelta(hours=1),
                       materials=(form,), step_owner=RUDONG),
        ]
    )  # fmt: skip
    world.relay(TONGXIANG)

    world.consume(RUDONG, until_idle=2.0)  # mirrors the approval, finishes the case
    assert rudong.query(
        "SELECT event_type FROM case_history WHERE case_id = %s ORDER BY version", (case_id,)
    ) == [
        ("CASE_SUBMITTED",), ("CASE_ACCEPTED",), ("STEP_REQUESTED",), ("STEP_COMPLETED",),
        ("CASE_APPROVED",), ("RESULT_DELIVERED",),
    ]  # fmt: skip
    materials = rudong.query(
        "SELECT snapshot->'materials' FROM cases WHERE case_id = %s", (case_id,)
    )[0][0]
    assert form.digest in {m["digest"] for m in materials}
    world.relay(RUDONG)

    world.consume(TONGXIANG, until_idle=2.0)
    assert tongxiang.mirror_digest(RUDONG) == rudong.owned_digest()
    assert rudong.mirror_digest(TONGXIANG) == tongxiang.owned_digest()
    assert tongxiang.query("SELECT state, version FROM mirror_cases") == [("DELIVERED", 6)]


def test_withdrawal_of_the_case_withdraws_the_partner_task(world: World) -> None:
    """When Rudong's applicant withdraws, Tongxiang's consumer withdraws its open task."""
    rudong, tongxiang = world.region(RUDONG), world.region(TONGXIANG)
    case_id = f"{RUDONG}-2026-MI-0002"
    _request_transfer_out(world, case_id)
    world.consume(TONGXIANG, until_idle=2.0)
    rudong.record([CaseChange(case_id, EventType.CASE_WITHDRAWN, 3, START + timedelta(days=1))])
    world.relay(RUDONG)
    world.consume(TONGXIANG, until_idle=2.0)
    assert tongxiang.query("SELECT state, version FROM cases") == [("WITHDRAWN", 3)]
    assert tongxiang.query("SELECT state FROM mirror_cases") == [("WITHDRAWN",)]
    assert tongxiang.mirror_digest(RUDONG) == rudong.owned_digest()


def test_a_withdrawal_reusing_the_step_requests_event_id_changes_nothing(world: World) -> None:
    """A withdrawal that reuses the applied step request's event id is ignored: no dead letter,
    no answer recorded, the task stays open; the real withdrawal then withdraws it."""
    rudong, tongxiang = world.region(RUDONG), world.region(TONGXIANG)
    case_id = f"{RUDONG}-2026-MI-0003"
    step_requested = _request_transfer_out(world, case_id)[2]
    world.consume(TONGXIANG, until_idle=2.0)
    task_before = tongxiang.query("SELECT state, version FROM cases")
    [withdrawn] = rudong.record(
        [CaseChange(case_id, EventType.CASE_WITHDRAWN, 3, START + timedelta(days=1))]
    )
    reused = dataclasses.replace(withdrawn, event_id=step_requested.event_id)
    world.deliver(RUDONG, TONGXIANG, [(case_id, world.codec.encode(reused))])
    world.consume(TONGXIANG, until_idle=2.0)
    assert tongxiang.query("SELECT count(*) FROM dead_letters") == [(0,)]
    assert tongxiang.query("SELECT state, version FROM cases") == task_before
    world.relay(RUDONG)
    world.consume(TONGXIANG, until_idle=2.0)
    assert tongxiang.query("SELECT state, version FROM cases") == [("WITHDRAWN", 3)]
    assert tongxiang.mirror_digest(RUDONG) == rudong.owned_digest()
