"""Send dead letters back through the consumer's apply code, once each, audited.

After a fix (the schema was published, the catalogue gained the agreement), a dead letter's
stored record is triaged, sequenced and written exactly as the consumer would (``Triage``,
``plan_batch``, ``store``, ``Reactor``), but its partition's position stays where it is: the
consumer moved past the record long ago. Steps, per dead letter, in one transaction:
  1. lock the dead-letter row (two redrives of one dead letter serialise here);
  2. skip it if an earlier redrive resolved it;
  3. read the case's head, applied event ids and held events; plan (pure);
  4. write the plan (version-guarded mirror upsert, history, hold) and the workflow answers;
  5. record who redrove it, when, and the outcome (``dead_letter_redrives``); commit.
The mirror's unique event id and version guard make a second application a no-op besides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from casesync.adapters.postgres import transaction
from casesync.contract.errors import ContractError
from casesync.domain.events import CaseEvent
from casesync.errors import Unreachable
from casesync.ops.applying import ApplyParts
from casesync.ops.errors import DeadLetterNotFound
from consumers import store
from consumers.planning import event_ids, held_by_case, plan_batch
from consumers.records import Incoming, Rejection


@dataclass(frozen=True, slots=True)
class RedriveResult:
    """What became of one dead letter."""

    dead_letter_id: int
    outcome: str  # applied, ignored, held, rejected, or already (skipped)
    detail: str = ""


def open_ids(cur: Any) -> list[int]:
    """Ids of every dead letter no redrive resolved yet, oldest first."""
    cur.execute(
        "SELECT d.id FROM dead_letters d WHERE NOT EXISTS (SELECT 1 FROM dead_letter_redrives r"
        " WHERE r.dead_letter_id = d.id AND r.resolved) ORDER BY d.id"
    )
    return [row[0] for row in cur.fetchall()]


class Redriver:
    """Redrives dead letters of one region's database."""

    def __init__(self, parts: ApplyParts, requested_by: str) -> None:
        self._parts = parts
        self._requested_by = requested_by

    def redrive(self, ids: Iterable[int]) -> list[RedriveResult]:
        """Redrive each dead letter of ``ids`` in order; DeadLetterNotFound for an unknown id."""
        try:
            return [self._one(i) for i in ids]
        finally:
            self._parts.database.discard()

    def _one(self, dead_letter_id: int) -> RedriveResult:
        conn = self._parts.database.connection()
        with transaction(conn) as cur:
            record = store.read_dead_letter(cur, dead_letter_id)
        if record is None:
            raise DeadLetterNotFound(dead_letter_id)
        try:  # before the lock: triage may read the schema topic
            outcome = self._parts.triage(record)
        except ContractError as e:  # only retriable ones reach here (see Triage)
            raise Unreachable("the schema source", "its schema topic", str(e)) from e
        with transaction(conn) as cur:
            store.read_dead_letter(cur, dead_letter_id, lock=True)  # 1
            cur.execute(
                "SELECT redriven_at, requested_by FROM dead_letter_redrives"
                " WHERE dead_letter_id = %s AND resolved",
                (dead_letter_id,),
            )
            earlier = cur.fetchone()
            if earlier is not None:  # 2
                when, who = earlier
                return RedriveResult(dead_letter_id, "already", f"by {who} at {when.isoformat()}")
            events = [outcome] if isinstance(outcome, CaseEvent) else []  # 3
            case_ids = [e.case_id for e in events]
            heads = store.read_heads(cur, case_ids)
            held = held_by_case(store.read_held(cur, case_ids), self._parts.codec.decode)
            applied_ids = store.read_applied_ids(cur, event_ids(events, held))
            plan = plan_batch([(record, outcome)], heads, applied_ids, held)
            plan.dead.extend(self._parts.reactor.react_to(cur, plan.applied))  # 4
            store.write_plan(cur, plan)
            result = _result(dead_letter_id, plan.counts[record.tp], plan.dead)
            why = plan.dead[0][1] if result.outcome == "rejected" and plan.dead else None
            cur.execute(
                "INSERT INTO dead_letter_redrives (dead_letter_id, requested_by, outcome, stage,"
                " error_class, reason) VALUES (%s, %s, %s, %s, %s, %s)",
                (dead_letter_id, self._requested_by, result.outcome,
                 None if why is None else why.stage.value,
                 None if why is None else why.error_class, None if why is None else why.reason),
            )  # 5  # fmt: skip
        return result


def _result(
    dead_letter_id: int, counts: Any, dead: list[tuple[Incoming, Rejection]]
) -> RedriveResult:
    if counts.applied:
        reacted = [why for _, why in dead]
        note = f"workflow answer failed: {reacted[0].reason}" if reacted else ""
        return RedriveResult(dead_letter_id, "applied", note)
    if counts.dead_lettered:
        why = dead[0][1]
        return RedriveResult(dead_letter_id, "rejected", f"{why.stage}: {why.reason}")
    if counts.held:
        return RedriveResult(dead_letter_id, "held", "waiting for an earlier version")
    return RedriveResult(dead_letter_id, "ignored", "already applied or stale")
