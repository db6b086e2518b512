"""Parse the agreements and workflows files (checked against known regions and items)."""

from __future__ import annotations

from collections.abc import Collection
from types import MappingProxyType

from casesync.domain._reading import Reader
from casesync.domain.agreements import Agreement
from casesync.domain.workflows import StepSpec, Workflow


def load_agreements(
    reader: Reader, regions: Collection[str], items: Collection[str]
) -> list[Agreement]:
    """Every agreement in the file; members and items must exist in the catalogue."""
    agreements: list[Agreement] = []
    seen: set[str] = set()
    for i, raw in enumerate(reader.array(reader.load(), "agreements", "top level")):
        data = reader.obj(raw, f"agreements[{i}]")
        agreement_id = reader.text(data, "id", f"agreements[{i}]")
        where = f"agreement {agreement_id}"
        if agreement_id in seen:
            raise reader.fail(where, "duplicate agreement id")
        seen.add(agreement_id)
        scope = data.get("scope", "regional")
        if scope not in ("national", "regional"):
            raise reader.fail(where, f"scope {scope!r} must be national or regional")
        members = frozenset(reader.texts(data, "members", where))
        if scope == "national" and members:
            raise reader.fail(where, "a national agreement lists no members")
        if scope == "regional" and len(members) < 2:
            raise reader.fail(where, "a regional agreement needs at least two members")
        for member in sorted(members - set(regions)):
            raise reader.fail(where, f"unknown member region {member}")
        agreement_items = frozenset(reader.texts(data, "items", where))
        for item in sorted(agreement_items - set(items)):
            raise reader.fail(where, f"unknown item {item}")
        effective_from = reader.day(data, "effective_from", where)
        effective_until = reader.opt_day(data, "effective_until", where)
        if effective_until is not None and effective_until < effective_from:
            raise reader.fail(where, "effective_until is before effective_from")
        agreements.append(
            Agreement(
                id=agreement_id,
                name=reader.text(data, "name", where),
                national=scope == "national",
                members=members,
                items=agreement_items,
                effective_from=effective_from,
                effective_until=effective_until,
                items_complete=reader.flag(data, "items_complete", where, True),
                effective_from_exact=reader.flag(data, "effective_from_exact", where, True),
                basis=reader.opt_text(data, "basis", where),
                note=reader.opt_text(data, "note", where),
            )
        )
    return agreements


def load_workflows(reader: Reader, items: Collection[str]) -> dict[str, Workflow]:
    """Every declared workflow; steps are numbered 1..n and owned by declared roles."""
    workflows: dict[str, Workflow] = {}
    for i, raw in enumerate(reader.array(reader.load(), "workflows", "top level")):
        data = reader.obj(raw, f"workflows[{i}]")
        workflow_id = reader.text(data, "id", f"workflows[{i}]")
        where = f"workflow {workflow_id}"
        if workflow_id in workflows:
            raise reader.fail(where, "duplicate workflow id")
        item_code = reader.text(data, "item_code", where)
        if item_code not in items:
            raise reader.fail(where, f"unknown item {item_code}")
        roles = reader.obj(data.get("roles"), f"{where} roles")
        if not roles or not all(isinstance(v, str) for v in roles.values()):
            raise reader.fail(where, "'roles' must map role names to descriptions")
        steps = tuple(
            _load_step(reader, raw_step, f"{where} steps[{n}]", n + 1, roles.keys())
            for n, raw_step in enumerate(reader.array(data, "steps", where))
        )
        if not steps:
            raise reader.fail(where, "a workflow needs at least one step")
        workflows[workflow_id] = Workflow(
            id=workflow_id,
            name=reader.text(data, "name", where),
            item_code=item_code,
            basis=reader.text(data, "basis", where),
            promised_days=reader.integer(data, "promised_days", where),
            roles=MappingProxyType(dict(roles)),
            steps=steps,
            effective_from=reader.opt_day(data, "effective_from", where),
            effective_until=reader.opt_day(data, "effective_until", where),
            note=reader.opt_text(data, "note", where),
        )
    return workflows


def _load_step(
    reader: Reader, raw: object, where: str, expected_number: int, roles: Collection[str]
) -> StepSpec:
    data = reader.obj(raw, where)
    number = reader.integer(data, "number", where)
    if number != expected_number:
        raise reader.fail(where, f"step number {number}, expected {expected_number}")
    role = reader.text(data, "role", where)
    if role not in roles:
        raise reader.fail(where, f"role {role!r} is not declared")
    return StepSpec(
        number=number,
        name=reader.text(data, "name", where),
        role=role,
        limit_days=reader.integer(data, "limit_days", where),
        automatic=reader.flag(data, "automatic", where),
        documents=reader.texts(data, "documents", where),
    )
