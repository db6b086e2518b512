"""PostgreSQL adapter of the consumer: reads and writes of one batch, in the caller's transaction.

Each function takes the caller's cursor; ``consumers.applier`` owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from psycopg2.extras import execute_values

from casesync.adapters.copying import copy_lines, text
from casesync.domain.events import CaseEvent
from casesync.domain.vocabulary import CaseState
from casesync.snapshots import snapshot_json_text
from consumers.errors import PositionConflict
from consumers.planning import Applied, BatchPlan, CaseHead, Held
from consumers.records import Incoming, Rejection, TopicPartition

_MIRROR_COLUMNS = (
    "case_id", "source_region", "version", "state", "item_code", "handling_mode", "step_owner",
    "promised_deadline", "correlation_id", "updated_at", "snapshot", "last_event_id",
)  # fmt: skip
_HISTORY_COLUMNS = (
    "case_id", "version", "event_id", "event_type", "state", "source_region", "occurred_at",
    "topic", "partition", "offset",
)  # fmt: skip
_STAGE_TABLE = "mirror_stage"

# Why a staging table: COPY cannot upsert, and the upsert keeps a version guard: a row already
# at a newer version is never overwritten, whatever reaches it.
_CREATE_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS mirror_stage"
    " (LIKE mirror_cases INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_UPSERT_MIRROR = (
    "INSERT INTO mirror_cases (case_id, source_region, version, state, item_code, handling_mode,"
    " step_owner, promised_deadline, correlation_id, updated_at, snapshot, last_event_id)"
    " SELECT case_id, source_region, version, state, item_code, handling_mode, step_owner,"
    " promised_deadline, correlation_id, updated_at, snapshot, last_event_id FROM mirror_stage"
    " ON CONFLICT (case_id) DO UPDATE SET version = EXCLUDED.version, state = EXCLUDED.state,"
    " step_owner = EXCLUDED.step_owner, promised_deadline = EXCLUDED.promised_deadline,"
    " updated_at = EXCLUDED.updated_at, snapshot = EXCLUDED.snapshot,"
    " last_event_id = EXCLUDED.last_event_id, applied_at = now()"
    " WHERE mirror_cases.version < EXCLUDED.version"
)


def prepare_session(cur: Any) -> None:
    """Per-connection set-up: the staging table of the mirror upsert."""
    cur.execute(_CREATE_STAGE)


def load_positions(cur: Any, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
    """Stored next offsets of these partitions (absent: never consumed)."""
    topics, partitions = _unzip(tps)
    cur.execute(
        "SELECT p.topic, p.partition, p.next_offset FROM consumer_positions p"
        " JOIN unnest(%s::text[], %s::int[]) AS w(topic, partition)"
        " ON p.topic = w.topic AND p.partition = w.partition",
        (topics, partitions),
    )
    return {(topic, partition): offset for topic, partition, offset in cur.fetchall()}


def lock_positions(cur: Any, expected: dict[TopicPartition, int | None]) -> None:
    """Lock the batch's position rows; PositionConflict unless each holds what we expect.

    Why: two members that both believe they own a partition (one not yet told of a rebalance)
    serialise on these row locks, and the later one finds the position moved. A partition never
    consumed has no row: inserting it takes the same lock (a concurrent insert waits on the
    unique index, then finds the row and conflicts).
    """
    fresh = sorted(tp for tp, offset in expected.items() if offset is None)
    if fresh:
        created = execute_values(
            cur,
            "INSERT INTO consumer_positions (topic, partition, next_offset) VALUES %s"
            " ON CONFLICT (topic, partition) DO NOTHING RETURNING topic, partition",
            [(topic, partition, 0) for topic, partition in fresh],
            fetch=True,
        )
        made = {(topic, partition) for topic, partition in created}
        for tp in fresh:
            if tp not in made:
                raise PositionConflict(tp[0], tp[1], None, -1)
    known = {tp: offset for tp, offset in expected.items() if offset is not None}
    if not known:
        return
    topics, partitions = _unzip(known)
    cur.execute(
        "SELECT p.topic, p.partition, p.next_offset FROM consumer_positions p"
        " JOIN unnest(%s::text[], %s::int[]) AS w(topic, partition)"
        " ON p.topic = w.topic AND p.partition = w.partition"
        " ORDER BY p.topic, p.partition FOR UPDATE OF p",
        (topics, partitions),
    )
    stored = {(topic, partition): offset for topic, partition, offset in cur.fetchall()}
    for tp, offset in known.items():
        if stored.get(tp) != offset:
            raise PositionConflict(tp[0], tp[1], offset, stored.get(tp))


def read_heads(cur: Any, case_ids: Sequence[str]) -> dict[str, CaseHead]:
    """Last applied version and state of each mirrored case among ``case_ids``."""
    cur.execute(
        "SELECT case_id, version, state FROM mirror_cases WHERE case_id = ANY(%s)", (case_ids,)
    )
    return {case_id: CaseHead(version, CaseState(state)) for case_id, version, state in cur}


def read_applied_ids(cur: Any, event_ids: Sequence[str]) -> set[str]:
    """Which of ``event_ids`` were applied already."""
    cur.execute(
        "SELECT event_id::text FROM mirror_history WHERE event_id = ANY(%s::uuid[])", (event_ids,)
    )
    return {row[0] for row in cur}


class Known(NamedTuple):
    """What the database knows of a batch's cases and events, before planning it."""

    heads: dict[str, CaseHead]
    applied_ids: set[str]
    any_held: bool  # whether any event is held at all (then ``read_held_rows``)


def read_known(cur: Any, case_ids: Sequence[str], event_ids: Sequence[str]) -> Known:
    """``read_heads``, ``read_applied_ids`` and whether anything is held, in one round trip."""
    cur.execute(
        "SELECT 0, case_id, version, state FROM mirror_cases WHERE case_id = ANY(%s)"
        " UNION ALL SELECT 1, event_id::text, NULL, NULL FROM mirror_history"
        " WHERE event_id = ANY(%s::uuid[])"
        " UNION ALL SELECT 2, NULL, NULL, NULL WHERE EXISTS (SELECT 1 FROM held_events)",
        (case_ids, event_ids),
    )
    heads: dict[str, CaseHead] = {}
    applied_ids: set[str] = set()
    any_held = False
    for kind, key, version, state in cur:
        if kind == 0:
            heads[key] = CaseHead(version, CaseState(state))
        elif kind == 1:
            applied_ids.add(key)
        else:
            any_held = True
    return Known(heads, applied_ids, any_held)


def read_held(cur: Any, case_ids: Sequence[str]) -> list[tuple[Incoming, int]]:
    """Held records of these cases with their expected versions (cheap when none are held)."""
    cur.execute("SELECT EXISTS (SELECT 1 FROM held_events)")
    if not cur.fetchone()[0]:
        return []
    return read_held_rows(cur, case_ids)


def read_held_rows(cur: Any, case_ids: Sequence[str]) -> list[tuple[Incoming, int]]:
    """Held records of these cases with their expected versions."""
    cur.execute(
        'SELECT topic, partition, "offset", record_key, payload, expected_version'
        " FROM held_events WHERE case_id = ANY(%s) ORDER BY case_id, version",
        (case_ids,),
    )
    return [
        (Incoming(topic, partition, offset, _bytes(key), bytes(payload)), expected)
        for topic, partition, offset, key, payload, expected in cur.fetchall()
    ]


def write_plan(cur: Any, plan: BatchPlan) -> None:
    """Mirror rows (version-guarded upsert), history, dead letters, holds and releases."""
    latest = plan.latest()
    if latest:
        copy_lines(cur, _STAGE_TABLE, _MIRROR_COLUMNS, _mirror_lines(latest.values()))
        cur.execute(_UPSERT_MIRROR)
    if plan.applied:
        copy_lines(cur, "mirror_history", _HISTORY_COLUMNS, _history_lines(plan.applied))
    if plan.dead:
        write_dead_letters(cur, plan.dead)
    if plan.held:
        _write_held(cur, plan.held)
    if plan.released:
        cases, versions = _unzip(plan.released)
        cur.execute(
            "DELETE FROM held_events h USING unnest(%s::text[], %s::int[]) AS r(case_id, version)"
            " WHERE h.case_id = r.case_id AND h.version = r.version",
            (cases, versions),
        )


def relax_commit(cur: Any) -> None:
    """Let this transaction's commit return before its WAL reaches the disk."""
    cur.execute("SET LOCAL synchronous_commit TO OFF")


def write_dead_letters(cur: Any, dead: Sequence[tuple[Incoming, Rejection]]) -> None:
    """Dead-letter rows; a record dead-lettered before (a replayed batch) is kept as it was."""
    execute_values(
        cur,
        "INSERT INTO dead_letters (topic, partition, \"offset\", record_key, payload, stage,"
        " error_class, reason, event_id, case_id) VALUES %s"
        " ON CONFLICT (topic, partition, \"offset\") DO NOTHING",
        [
            (
                r.topic, r.partition, r.offset, r.key, r.value, why.stage.value, why.error_class,
                why.reason, None if why.event is None else why.event.event_id,
                None if why.event is None else why.event.case_id,
            )
            for r, why in dead
        ],
    )  # fmt: skip


def write_positions(cur: Any, plan: BatchPlan) -> None:
    """Advance each partition's position and add the batch's counts, in the same transaction."""
    rows = []
    for tp, next_offset in plan.next_offsets.items():
        c = plan.counts[tp]
        rows.append(
            (tp[0], tp[1], next_offset, c.applied, c.ignored, c.not_targeted, c.held,
             c.dead_lettered)
        )  # fmt: skip
    execute_values(
        cur,
        "INSERT INTO consumer_positions (topic, partition, next_offset, applied, ignored,"
        " not_targeted, held, dead_lettered) VALUES %s"
        " ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset,"
        " applied = consumer_positions.applied + EXCLUDED.applied,"
        " ignored = consumer_positions.ignored + EXCLUDED.ignored,"
        " not_targeted = consumer_positions.not_targeted + EXCLUDED.not_targeted,"
        " held = consumer_positions.held + EXCLUDED.held,"
        " dead_lettered = consumer_positions.dead_lettered + EXCLUDED.dead_lettered,"
        " updated_at = now()",
        rows,
    )


def _mirror_lines(events: Iterable[CaseEvent]) -> Iterable[str]:
    # The snapshot's key order does not matter: jsonb normalises it, digests read jsonb back.
    for e in events:
        s = e.snapshot
        yield (
            f"{text(e.case_id)}\t{text(e.source_region)}\t{e.case_version}\t{s.state.value}\t"
            f"{text(s.item_code)}\t{s.handling_mode.value}\t{text(s.step_owner)}\t"
            f"{s.promised_deadline.isoformat()}\t{text(e.correlation_id)}\t"
            f"{e.occurred_at.isoformat()}\t{text(snapshot_json_text(s))}\t"
            f"{text(e.event_id)}\n"
        )


def _history_lines(applied: Iterable[Applied]) -> Iterable[str]:
    for a in applied:
        e, r = a.event, a.record
        yield (
            f"{text(e.case_id)}\t{e.case_version}\t{text(e.event_id)}\t{e.event_type.value}\t"
            f"{e.snapshot.state.value}\t{text(e.source_region)}\t{e.occurred_at.isoformat()}\t"
            f"{text(r.topic)}\t{r.partition}\t{r.offset}\n"
        )


def _write_held(cur: Any, held: Sequence[Held]) -> None:
    execute_values(
        cur,
        "INSERT INTO held_events (case_id, version, expected_version, event_id, topic,"
        " partition, \"offset\", record_key, payload) VALUES %s"
        " ON CONFLICT (case_id, version) DO NOTHING",
        [
            (h.event.case_id, h.event.case_version, h.expected_version, h.event.event_id,
             h.record.topic, h.record.partition, h.record.offset, h.record.key, h.record.value)
            for h in held
        ],
    )  # fmt: skip


def _unzip(pairs: Iterable[tuple[str, int]]) -> tuple[list[str], list[int]]:
    firsts, seconds = [], []
    for a, b in pairs:
        firsts.append(a)
        seconds.append(b)
    return firsts, seconds


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)
