"""A case snapshot as canonical JSON, for storage (jsonb) and for digests that regions compare.

Owned cases (in the source region) and mirrored cases (in partners) are stored with the same
function, so the source's ``digest --owned`` and a partner's ``digest --mirror-of`` agree exactly
when both hold the same versions of the same cases.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from json.encoder import encode_basestring
from typing import Any

from casesync.domain.events import Applicant, CaseSnapshot, Material, WorkflowStep
from casesync.domain.vocabulary import (
    ApplicantKind,
    CaseState,
    HandlingMode,
    MaterialStatus,
)

JsonDict = dict[str, Any]


def snapshot_to_json(snapshot: CaseSnapshot) -> JsonDict:
    """Plain JSON types only: enums as symbols, instants as ISO-8601 UTC, dates as ISO dates."""
    applicant = snapshot.applicant
    step = snapshot.workflow_step
    return {
        "state": snapshot.state.value,
        "item_code": snapshot.item_code,
        "handling_mode": snapshot.handling_mode.value,
        "owner_region": snapshot.owner_region,
        "step_owner": snapshot.step_owner,
        "applicant": {
            "kind": applicant.kind.value,
            "name": applicant.name,
            "id_number": applicant.id_number,
            "credit_code": applicant.credit_code,
        },
        "materials": [
            {"code": m.code, "name": m.name, "status": m.status.value, "digest": m.digest}
            for m in snapshot.materials
        ],
        "submitted_at": snapshot.submitted_at.isoformat(),
        "promised_deadline": snapshot.promised_deadline.isoformat(),
        "workflow_step": None
        if step is None
        else {
            "workflow": step.workflow,
            "step": step.step,
            "name": step.name,
            "owner_region": step.owner_region,
            "due": None if step.due is None else step.due.isoformat(),
        },
    }


def snapshot_json_text(snapshot: CaseSnapshot) -> str:
    """``snapshot_to_json`` as compact JSON text, formatted directly (no dict, no encoder).

    The same value as ``json.dumps(snapshot_to_json(snapshot))``, key order aside (jsonb and
    ``canonical`` both normalise it); several times faster, for writers of many rows.
    """
    applicant = snapshot.applicant
    step = snapshot.workflow_step
    materials = ",".join(
        [
            f'{{"code":{_q(m.code)},"name":{_q(m.name)},"status":{_q(m.status)},'
            f'"digest":{_q_or_null(m.digest)}}}'
            for m in snapshot.materials
        ]
    )
    if step is None:
        workflow_step = "null"
    else:
        due = "null" if step.due is None else f'"{step.due.isoformat()}"'
        workflow_step = (
            f'{{"workflow":{_q(step.workflow)},"step":{int(step.step)},"name":{_q(step.name)},'
            f'"owner_region":{_q(step.owner_region)},"due":{due}}}'
        )
    return (
        f'{{"state":{_q(snapshot.state)},"item_code":{_q(snapshot.item_code)},'
        f'"handling_mode":{_q(snapshot.handling_mode)},'
        f'"owner_region":{_q(snapshot.owner_region)},"step_owner":{_q(snapshot.step_owner)},'
        f'"applicant":{{"kind":{_q(applicant.kind)},"name":{_q(applicant.name)},'
        f'"id_number":{_q_or_null(applicant.id_number)},'
        f'"credit_code":{_q_or_null(applicant.credit_code)}}},'
        f'"materials":[{materials}],"submitted_at":"{snapshot.submitted_at.isoformat()}",'
        f'"promised_deadline":"{snapshot.promised_deadline.isoformat()}",'
        f'"workflow_step":{workflow_step}}}'
    )


# A JSON string literal, UTF-8 kept (as ``json.dumps(..., ensure_ascii=False)`` writes it).
_q = encode_basestring


def _q_or_null(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def snapshot_from_json(data: JsonDict) -> CaseSnapshot:
    """The inverse of ``snapshot_to_json``."""
    applicant = data["applicant"]
    step = data["workflow_step"]
    return CaseSnapshot(
        state=CaseState(data["state"]),
        item_code=data["item_code"],
        handling_mode=HandlingMode(data["handling_mode"]),
        owner_region=data["owner_region"],
        step_owner=data["step_owner"],
        applicant=Applicant(
            kind=ApplicantKind(applicant["kind"]),
            name=applicant["name"],
            id_number=applicant["id_number"],
            credit_code=applicant["credit_code"],
        ),
        materials=tuple(
            Material(m["code"], m["name"], MaterialStatus(m["status"]), m["digest"])
            for m in data["materials"]
        ),
        submitted_at=datetime.fromisoformat(data["submitted_at"]),
        promised_deadline=date.fromisoformat(data["promised_deadline"]),
        workflow_step=None
        if step is None
        else WorkflowStep(
            workflow=step["workflow"],
            step=step["step"],
            name=step["name"],
            owner_region=step["owner_region"],
            due=None if step["due"] is None else date.fromisoformat(step["due"]),
        ),
    )


def canonical(data: JsonDict) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest_cases(rows: Iterable[tuple[str, int, JsonDict]]) -> tuple[str, int]:
    """(sha256 hex, count) over (case_id, version, snapshot json) rows, in case_id order."""
    hasher = hashlib.sha256()
    count = 0
    for case_id, version, snapshot in sorted(rows, key=lambda row: row[0]):
        hasher.update(f"{case_id}\x1f{version}\x1f{canonical(snapshot)}\x1e".encode())
        count += 1
    return hasher.hexdigest(), count
