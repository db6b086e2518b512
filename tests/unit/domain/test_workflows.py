"""Declared multi-region workflows: the medical-insurance relationship transfer."""

from __future__ import annotations

from datetime import date

import pytest

from casesync.domain.catalogue import Catalogue
from casesync.domain.errors import UnknownWorkflow

from .conftest import MEDICAL_TRANSFER, RUDONG, TONGXIANG

OLD = "medical-insurance-transfer-2016"
CURRENT = "medical-insurance-transfer-2021"


def test_mailed_procedure_has_four_steps_of_fifteen_days(catalogue: Catalogue) -> None:
    """The mailed procedure of 2016: four steps of 15 working days, 20 promised overall."""
    workflow = catalogue.workflow(OLD)
    assert [s.limit_days for s in workflow.steps] == [15, 15, 15, 15]
    assert [s.role for s in workflow.steps] == [
        "transfer_in", "transfer_in", "transfer_out", "transfer_in",
    ]  # fmt: skip
    assert workflow.promised_days == 20
    assert "联系函" in workflow.step(2).documents
    assert "变更信息表" in workflow.step(3).documents


def test_current_rule_gives_ten_then_five_days(catalogue: Catalogue) -> None:
    """医保办发〔2021〕43号: transfer-out within 10 working days, transfer-in within 5."""
    workflow = catalogue.workflow(CURRENT)
    by_role = {s.role: s.limit_days for s in workflow.steps if s.limit_days}
    assert by_role == {"transfer_out": 10, "transfer_in": 5}


def test_workflow_version_follows_the_case_date(catalogue: Catalogue) -> None:
    """Cases started in 2021 follow the mailed procedure, later ones the 2021 rule."""
    assert catalogue.workflow_for(MEDICAL_TRANSFER, date(2021, 6, 1)).id == OLD
    assert catalogue.workflow_for(MEDICAL_TRANSFER, date(2025, 6, 1)).id == CURRENT


def test_roles_resolve_to_regions_for_one_case(catalogue: Catalogue) -> None:
    """Binding transfer-in to Rudong and transfer-out to Tongxiang names each step's owner."""
    case = catalogue.workflow(OLD).bind(transfer_in=RUDONG, transfer_out=TONGXIANG)
    assert [case.owner_of(n) for n in (1, 2, 3, 4)] == [RUDONG, RUDONG, TONGXIANG, RUDONG]
    after_contact_letter = case.next_step(2)
    assert after_contact_letter is not None
    assert after_contact_letter.number == 3
    assert after_contact_letter.owner_region == TONGXIANG
    assert case.next_step(4) is None


def test_first_step_and_event_position(catalogue: Catalogue) -> None:
    """next_step(0) is step 1, and a step converts to the event's WorkflowStep value."""
    case = catalogue.workflow(CURRENT).bind(transfer_in=RUDONG, transfer_out=TONGXIANG)
    first = case.next_step(0)
    assert first is not None
    assert first.number == 1
    position = case.event_step(2, due=date(2025, 3, 17))
    assert (position.workflow, position.step, position.owner_region) == (CURRENT, 2, TONGXIANG)


def test_binding_requires_every_role(catalogue: Catalogue) -> None:
    """Binding with a missing or unknown role raises UnknownWorkflow."""
    with pytest.raises(UnknownWorkflow):
        catalogue.workflow(OLD).bind(transfer_in=RUDONG)
    with pytest.raises(UnknownWorkflow):
        catalogue.workflow(OLD).bind(transfer_in=RUDONG, transfer_out=TONGXIANG, payer="x")


def test_unknown_step_and_workflow(catalogue: Catalogue) -> None:
    """Asking for step 5 of a four-step workflow, or an undeclared workflow, is an error."""
    with pytest.raises(UnknownWorkflow):
        catalogue.workflow(OLD).step(5)
    with pytest.raises(UnknownWorkflow):
        catalogue.workflow("no-such-workflow")
