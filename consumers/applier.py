"""Apply a batch of records in one PostgreSQL transaction: the exactly-once core.

A record the database refuses (bad text, a broken constraint) is found by splitting the batch
and is dead-lettered alone, so one bad message never blocks its partition. Failures that pass
with time (connection lost, server restarting, schema topic silent) propagate to the caller,
which retries the same records: they are never dead-lettered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg2
import structlog

from casesync.adapters.postgres import is_retriable, transaction
from casesync.contract.errors import ContractError
from casesync.domain.events import CaseEvent
from consumers import store
from consumers.database import Database
from consumers.errors import TransientFailure
from consumers.planning import BatchPlan, Counts, event_ids, held_by_case, plan_batch
from consumers.reactions import Reactor
from consumers.records import Incoming, Outcome, Rejection, Stage, TopicPartition
from consumers.triage import Triage

log = structlog.get_logger(__name__)

# SQLSTATE classes that blame the data of some record: data exception, integrity violation.
_RECORD_FAULT_CLASSES = ("22", "23")


@dataclass(frozen=True, slots=True)
class Triaged:
    """A batch ready for its transaction: each record's outcome, and its rows formatted."""

    records: Sequence[Incoming]
    outcomes: Sequence[Outcome]
    rows: store.RowTexts


@dataclass
class BatchOutcome(Counts):
    """What a committed batch did, for the caller's positions, logs and DLQ publisher: its
    records' counts (``dead_lettered`` includes failed workflow answers), and more."""

    next_offsets: dict[TopicPartition, int] = field(default_factory=dict)
    transactions: int = 0
    # Seconds from each applied event's occurred_at to this commit, by source region.
    sync_latencies: dict[str, list[float]] = field(default_factory=dict)
    dead_by_class: Counter[str] = field(default_factory=Counter)


class BatchApplier:
    """Applies the records of the region's inbox to its mirror."""

    def __init__(
        self,
        triage: Triage,
        decode: Callable[[bytes], CaseEvent],
        database: Database,
        reactor: Reactor | None = None,
    ) -> None:
        self._triage = triage
        self._decode = decode
        self._database = database
        self._reactor = reactor

    def apply(
        self, records: Sequence[Incoming], positions: Mapping[TopicPartition, int | None]
    ) -> BatchOutcome:
        """Triage and apply ``records`` (each partition's in offset order) from ``positions``."""
        return self.apply_triaged(self.triage(records), positions)

    def triage(self, records: Sequence[Incoming]) -> Triaged:
        """Decode and validate each record, and format its rows (no database);
        TransientFailure to retry."""
        try:
            outcomes = self._triage.batch(records)
        except ContractError as e:  # only retriable ones reach here (see Triage)
            raise TransientFailure(f"schema source unavailable: {e}") from e
        return Triaged(records, outcomes, store.row_texts(records, outcomes))

    def apply_triaged(
        self, batch: Triaged, positions: Mapping[TopicPartition, int | None]
    ) -> BatchOutcome:
        """Apply a triaged batch from ``positions`` on, in one transaction (more when the
        database refuses a record and the batch is split to find it).

        Raises PositionConflict when another member moved a position, and retriable errors
        (psycopg2 connection errors, Unreachable) for the caller to retry.
        """
        result = BatchOutcome()
        self._apply_split(batch.records, batch.outcomes, batch.rows, dict(positions), result)
        return result

    def close(self) -> None:
        """Close the database connection (a later batch opens a new one)."""
        self._database.discard()

    def _apply_split(
        self,
        records: Sequence[Incoming],
        outcomes: Sequence[Outcome],
        rows: store.RowTexts,
        positions: dict[TopicPartition, int | None],
        result: BatchOutcome,
        careful: bool = False,
    ) -> None:
        try:
            self._apply_once(records, outcomes, rows, positions, result, careful)
        except psycopg2.Error as e:
            record_fault = (e.pgcode or "")[:2] in _RECORD_FAULT_CLASSES
            if record_fault and not careful:
                # Nothing of these records committed. Either a unique index that only an
                # optimistic batch meets (an event id that came again on another version, a
                # case another writer created), or a record the database refuses: apply them
                # again the careful way, which reads which ids were applied and upserts every
                # case; so a refused record is dead-lettered knowing them too.
                log.info("batch applied again with every check", sqlstate=e.pgcode)
                self._apply_split(records, outcomes, rows, positions, result, careful=True)
                return
            if not record_fault:
                if is_retriable(e):
                    self._database.discard()
                raise
            if len(records) == 1:
                # The database refuses this record whatever else is in the batch.
                log.warning("record refused by the database", topic=records[0].topic,
                            partition=records[0].partition, offset=records[0].offset,
                            sqlstate=e.pgcode)  # fmt: skip
                refused = Rejection(Stage.STORE, type(e).__name__, f"SQLSTATE {e.pgcode}",
                                    _event_of(outcomes[0]))  # fmt: skip
                self._apply_once(records, [refused], rows, positions, result, careful)
                return
            half = len(records) // 2
            self._apply_split(records[:half], outcomes[:half], rows, positions, result, careful)
            self._apply_split(records[half:], outcomes[half:], rows, positions, result, careful)

    def _apply_once(
        self,
        records: Sequence[Incoming],
        outcomes: Sequence[Outcome],
        rows: store.RowTexts,
        positions: dict[TopicPartition, int | None],
        result: BatchOutcome,
        careful: bool,
    ) -> None:
        # Steps, all in one transaction:
        #   1. lock the batch's position rows and check they are where this member left them
        #      (else PositionConflict: another member owns the partition now);
        #   2. read the head version/state and held events of its cases;
        #   3. plan: sequence each event against its case (pure), knowing which event ids were
        #      applied before when careful, or when a plan without them holds, refuses or
        #      answers any;
        #   4. write mirror rows (new cases inserted, known ones version-guarded), history,
        #      dead letters, holds;
        #   5. record this region's workflow answers (own cases + outbox);
        #   6. advance the positions; 7. commit.
        # The caller then commits the same offsets to the Kafka group (for lag tools only:
        # on start and after a rebalance, positions are read back from this database).
        expected = {record.tp: positions.get(record.tp) for record in records}
        conn = self._database.connection()
        with transaction(conn) as cur:
            events = [o for o in outcomes if isinstance(o, CaseEvent)]
            case_ids = list({e.case_id for e in events})
            known = store.lock_and_read(cur, expected, case_ids)  # 1, 2
            held = (
                held_by_case(store.read_held_rows(cur, case_ids), self._decode)
                if known.any_held
                else {}
            )

            def make_plan(look_up_ids: bool) -> BatchPlan:
                ids = store.read_applied_ids(cur, event_ids(events, held)) if look_up_ids else ()
                return plan_batch(zip(records, outcomes, strict=True), known.heads, ids, held)

            # Why not always look the event ids up: it costs the database as much again as
            # reading the heads, for an id that almost never comes again on another version.
            # Where one would change an outcome: a plan that holds or refuses an event, or
            # answers one, is made again knowing the ids; an event that would apply is refused
            # by the history's unique index, and the batch applied again carefully (likewise
            # for a case another writer created).
            plan = make_plan(look_up_ids=careful)  # 3
            answers = self._reactor is not None and self._reactor.may_write(plan.applied)
            # Workflow answers take their ids from their trigger's, so an answer to an id that
            # came again would break the answers' own unique index: answer only a plan that
            # knows the applied ids.
            if not careful and (answers or not plan.stands_without_applied_ids()):
                plan = make_plan(look_up_ids=True)
                answers = self._reactor is not None and self._reactor.may_write(plan.applied)
            if answers and self._reactor is not None:  # 5 (before 4's dead letters are written)
                plan.dead.extend(self._reactor.react_to(cur, plan.applied))
            store.write_plan(cur, plan, rows, insert_new_cases=not careful)  # 4
            # The mirror is derived from the partners' topics: a crash that loses this commit
            # loses its positions with it, and the events are applied again from Kafka. So it
            # need not wait for its WAL flush. A batch that writes answers to the outbox, or
            # dead letters, does: those go on to other systems.
            store.write_positions(cur, plan, wait_for_flush=answers or bool(plan.dead))  # 6
        # 7 done: the transaction committed.
        committed = datetime.now(UTC)
        for applied in plan.applied:
            event = applied.event
            result.sync_latencies.setdefault(event.source_region, []).append(
                (committed - event.occurred_at).total_seconds()
            )
        result.dead_by_class.update(rejection.error_class for _, rejection in plan.dead)
        for tp, offset in plan.next_offsets.items():
            positions[tp] = offset
            result.next_offsets[tp] = offset
        result.applied += len(plan.applied)
        result.dead_lettered += len(plan.dead)
        for counts in plan.counts.values():
            result.ignored += counts.ignored
            result.held += counts.held
            result.not_targeted += counts.not_targeted
        result.transactions += 1


def _event_of(outcome: Outcome) -> CaseEvent | None:
    return outcome if isinstance(outcome, CaseEvent) else outcome.event
