"""The stories the demo tells on top of the simulated traffic, as plain case changes.

1. 补正 (materials requested) in Suzhou for a Yinchuan partner: one material is rejected, the
   applicant supplies it again, and the case goes on to delivery.
2. The medical-insurance relationship transfer (基本医疗保险关系转移接续) between Rudong
   (transfer-in) and Tongxiang (transfer-out), under the current rule (医保办发〔2021〕43号).
3. A case of a national-list item recorded with no chosen partner: it is addressed to every
   region, so it reaches every region's inbox.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

from casesync.domain.catalogue import Catalogue
from casesync.domain.events import Applicant, Material
from casesync.domain.items import ApplicantField
from casesync.domain.vocabulary import ApplicantKind, EventType, HandlingMode, MaterialStatus
from consumers.workflow import DOCUMENT_PREFIX
from producers.changes import CaseChange

E = EventType
MEDICAL_TRANSFER_NAME = "基本医疗保险关系转移接续"
CHANGE_FORM = "参保人员基本医疗保险类型变更信息表"


def _now() -> datetime:
    return datetime.now(UTC)


def materials_round_trip(
    catalogue: Catalogue, region: str, partner: str, case_id: str, on: date
) -> list[list[CaseChange]]:
    """The changes of a 补正 case, one list per moment (each list is one transaction)."""
    item = next(
        catalogue.item(code)
        for code in sorted(catalogue.shared_items(region, partner, on))
        if HandlingMode.FULLY_ONLINE in catalogue.item(code).handling_modes
        and catalogue.materials_for(code, region)
    )
    specs = catalogue.materials_for(item.code, region)
    applicant = _applicant(item.applicant_fields)

    def materials(status_of_first: MaterialStatus) -> tuple[Material, ...]:
        return tuple(
            Material(s.code, s.name, status_of_first if n == 0 else MaterialStatus.ACCEPTED,
                     hashlib.sha256(f"{case_id}/{s.code}/{status_of_first}".encode()).hexdigest())
            for n, s in enumerate(specs)
        )  # fmt: skip

    return [
        [CaseChange(case_id, E.CASE_SUBMITTED, 0, _now(), item_code=item.code,
                    handling_mode=HandlingMode.FULLY_ONLINE, applicant=applicant,
                    materials=materials(MaterialStatus.SUBMITTED), target_regions=(partner,))],
        [CaseChange(case_id, E.MATERIALS_REQUESTED, 1, _now(),
                    materials=materials(MaterialStatus.REJECTED))],
        [CaseChange(case_id, E.MATERIALS_SUPPLIED, 2, _now(),
                    materials=materials(MaterialStatus.SUBMITTED))],
        [CaseChange(case_id, E.CASE_ACCEPTED, 3, _now(),
                    materials=materials(MaterialStatus.ACCEPTED))],
        [CaseChange(case_id, E.REVIEW_STARTED, 4, _now())],
        [CaseChange(case_id, E.CASE_APPROVED, 5, _now())],
        [CaseChange(case_id, E.RESULT_DELIVERED, 6, _now())],
    ]  # fmt: skip


def transfer_request(
    catalogue: Catalogue, transfer_in: str, transfer_out: str, case_id: str, on: date
) -> tuple[list[CaseChange], int]:
    """At the transfer-in window: apply, accept, ask the transfer-out region for its step.

    Returns the changes and the number of the step the transfer-out region is asked for.
    """
    item = medical_transfer_item(catalogue)
    bound = catalogue.workflow_for(item, on).bind(
        transfer_in=transfer_in, transfer_out=transfer_out
    )
    first_partner_step = next(step for step in range(1, 10) if bound.owner_of(step) == transfer_out)
    applicant = _applicant(catalogue.item(item).applicant_fields)
    return [
        CaseChange(case_id, E.CASE_SUBMITTED, 0, _now(), item_code=item,
                   handling_mode=HandlingMode.JOINT, applicant=applicant,
                   workflow_step=bound.event_step(1), target_regions=(transfer_out,)),
        CaseChange(case_id, E.CASE_ACCEPTED, 1, _now()),
        CaseChange(case_id, E.STEP_REQUESTED, 2, _now(), step_owner=transfer_out,
                   workflow_step=bound.event_step(first_partner_step)),
    ], first_partner_step  # fmt: skip


def transfer_out_done(task_case_id: str, version: int, transfer_in: str) -> list[CaseChange]:
    """The transfer-out operator's work on the task: review, then approve with the signed form."""
    form = Material(
        f"{DOCUMENT_PREFIX}{CHANGE_FORM}", CHANGE_FORM, MaterialStatus.ACCEPTED,
        hashlib.sha256(f"{task_case_id}/signed".encode()).hexdigest(),
    )  # fmt: skip
    return [
        CaseChange(task_case_id, E.REVIEW_STARTED, version, _now()),
        CaseChange(task_case_id, E.CASE_APPROVED, version + 1, _now(), materials=(form,),
                   step_owner=transfer_in),
    ]  # fmt: skip


def national_case(catalogue: Catalogue, region: str, case_id: str, on: date) -> list[CaseChange]:
    """A fully online case of a national-list item, submitted to delivered, with no target
    given: the agreements address it to every region."""
    item = next(
        catalogue.item(code)
        for agreement in sorted(catalogue.agreements.values(), key=lambda a: a.id)
        if agreement.national and agreement.in_force(on)
        for code in sorted(agreement.items)
        if HandlingMode.FULLY_ONLINE in catalogue.item(code).handling_modes
    )
    path = (E.CASE_SUBMITTED, E.CASE_ACCEPTED, E.REVIEW_STARTED, E.CASE_APPROVED,
            E.RESULT_DELIVERED)  # fmt: skip
    first = CaseChange(case_id, path[0], 0, _now(), item_code=item.code,
                       handling_mode=HandlingMode.FULLY_ONLINE,
                       applicant=_applicant(item.applicant_fields))  # fmt: skip
    return [first, *(CaseChange(case_id, e, n, _now()) for n, e in enumerate(path) if n)]


def medical_transfer_item(catalogue: Catalogue) -> str:
    return next(
        code for code, item in catalogue.items.items() if item.name == MEDICAL_TRANSFER_NAME
    )


def _applicant(fields: frozenset[ApplicantField]) -> Applicant:
    if ApplicantField.CREDIT_CODE in fields:
        return Applicant(
            ApplicantKind.COMPANY, "苏银新材料有限公司", credit_code="91320500MA1DEMO001"
        )
    id_number = "330483198806061234" if ApplicantField.ID_NUMBER in fields else None
    return Applicant(ApplicantKind.PERSON, "沈桂芳", id_number=id_number)
