"""PostgreSQL adapter of the consumer: reads and writes of one batch, in the caller's transaction.

Each function takes the caller's cursor; ``consumers.applier`` owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from psycopg2 import sql
from psycopg2.extras import execute_values

from casesync.adapters.copying import copy_lines, text
from casesync.domain.events import CaseEvent
from casesync.domain.vocabulary import CaseState
from casesync.snapshots import snapshot_json_text
from consumers.errors import PositionConflict
from consumers.planning import Applied, BatchPlan, CaseHead, Held
from consumers.records import Incoming, Outcome, Rejection, TopicPartition

MIRROR_COLUMNS = (
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


class Known(NamedTuple):
    """What the database knows of a batch's cases, before planning it."""

    heads: dict[str, CaseHead]
    any_held: bool  # whether any event is held at all (then ``read_held_rows``)


# Why one statement: each round trip costs the writer thread a wait for the GIL as well.
# Each row is (kind, key, number, offset, state), by kind:
_HEAD, _SOMETHING_HELD, _POSITION = 0, 1, 2
#   _HEAD: case id, version, -, state;  _SOMETHING_HELD: nothing;
#   _POSITION: topic, partition, next offset (a locked position row).
_LOCK_AND_READ = sql.SQL(
    "WITH locked AS (SELECT p.topic, p.partition, p.next_offset FROM consumer_positions p"
    " JOIN unnest(%s::text[], %s::int[]) AS w(topic, partition)"
    " ON p.topic = w.topic AND p.partition = w.partition"
    " ORDER BY p.topic, p.partition FOR UPDATE OF p)"
    " SELECT {position}, topic, partition, next_offset, NULL::text FROM locked"
    " UNION ALL SELECT {head}, case_id, version, NULL::bigint, state FROM mirror_cases"
    " WHERE case_id = ANY(%s)"
    " UNION ALL SELECT {something_held}, NULL::text, NULL::int, NULL::bigint, NULL::text"
    " WHERE EXISTS (SELECT 1 FROM held_events)"
).format(
    position=sql.Literal(_POSITION), head=sql.Literal(_HEAD),
    something_held=sql.Literal(_SOMETHING_HELD),
)  # fmt: skip


def lock_and_read(
    cur: Any,
    expected: dict[TopicPartition, int | None],
    case_ids: Sequence[str],
) -> Known:
    """Lock the batch's position rows and read what is known of its cases.

    PositionConflict unless each position holds what we expect. Why the lock: two members
    that both believe they own a partition (one not yet told of a rebalance) serialise on
    these row locks, and the later one finds the position moved. A partition never consumed
    has no row: inserting it takes the same lock (a concurrent insert waits on the unique
    index, then finds the row and conflicts).

    The reads share the statement's snapshot, taken before any wait for a lock. That is safe
    because every transaction that changes these cases' mirror rows moves the positions it
    locks (a batch writes its positions): one that committed while we waited shows as a
    moved position, and the conflict ends this transaction before its reads are used.
    """
    _insert_fresh_positions(cur, [tp for tp, offset in expected.items() if offset is None])
    expected_offsets = {tp: offset for tp, offset in expected.items() if offset is not None}
    topics, partitions = _unzip(expected_offsets)
    cur.execute(_LOCK_AND_READ, (topics, partitions, case_ids))
    heads: dict[str, CaseHead] = {}
    stored: dict[TopicPartition, int] = {}
    any_held = False
    for kind, key, number, offset, state in cur:
        if kind == _HEAD:
            heads[key] = CaseHead(number, CaseState(state))
        elif kind == _POSITION:
            stored[(key, number)] = offset
        elif kind == _SOMETHING_HELD:
            any_held = True
        else:
            raise ValueError(f"unexpected row kind {kind} from the lock-and-read statement")
    for tp, offset in expected_offsets.items():
        if stored.get(tp) != offset:
            raise PositionConflict(tp[0], tp[1], offset, stored.get(tp))
    return Known(heads, any_held)


def _insert_fresh_positions(cur: Any, fresh: list[TopicPartition]) -> None:
    if not fresh:
        return
    created = execute_values(
        cur,
        "INSERT INTO consumer_positions (topic, partition, next_offset) VALUES %s"
        " ON CONFLICT (topic, partition) DO NOTHING RETURNING topic, partition",
        [(topic, partition, 0) for topic, partition in sorted(fresh)],
        fetch=True,
    )
    made = {(topic, partition) for topic, partition in created}
    for tp in fresh:
        if tp not in made:
            raise PositionConflict(tp[0], tp[1], None, -1)


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


_DEAD_LETTER = (
    'SELECT topic, partition, "offset", record_key, payload, header_names, header_values'
    " FROM dead_letters WHERE id = %s"
)


def read_dead_letter(cur: Any, dead_letter_id: int, *, lock: bool = False) -> Incoming | None:
    """The record a dead letter keeps (None: no such dead letter); ``lock`` takes its row lock."""
    cur.execute(_DEAD_LETTER + (" FOR UPDATE" if lock else ""), (dead_letter_id,))
    row = cur.fetchone()
    if row is None:
        return None
    topic, partition, offset, key, payload, names, values = row
    headers = tuple((name, _bytes(value) or b"") for name, value in zip(names, values, strict=True))
    return Incoming(topic, partition, offset, _bytes(key), _bytes(payload), headers)


def write_plan(
    cur: Any, plan: BatchPlan, ahead: RowTexts | None = None, *, insert_new_cases: bool = False
) -> None:
    """Mirror rows (new cases inserted, known ones upserted behind a version guard), history,
    dead letters, holds and releases.

    ``ahead`` holds rows formatted before the transaction (``row_texts``); any other row is
    formatted here. With ``insert_new_cases`` the rows of cases the mirror did not hold when the
    batch read its heads are COPYed straight into the mirror (two thirds of the upsert's cost); a
    case another writer created meanwhile then fails the batch on the mirror's primary key.
    """
    if plan.applied:
        fresh: list[str] = []
        known: list[str] = []
        for case_id, applied in plan.latest().items():
            new = insert_new_cases and case_id in plan.new_cases
            (fresh if new else known).append(_mirror_line(applied, ahead))
        if fresh:
            copy_lines(cur, "mirror_cases", MIRROR_COLUMNS, fresh)
        if known:
            copy_lines(cur, _STAGE_TABLE, MIRROR_COLUMNS, known)
            cur.execute(_UPSERT_MIRROR)
        history = [_history_line(applied, ahead) for applied in plan.applied]
        copy_lines(cur, "mirror_history", _HISTORY_COLUMNS, history)
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


def write_dead_letters(cur: Any, dead: Sequence[tuple[Incoming, Rejection]]) -> None:
    """Dead-letter rows; a record dead-lettered before (a replayed batch) is kept as it was."""
    execute_values(
        cur,
        "INSERT INTO dead_letters (topic, partition, \"offset\", record_key, payload, stage,"
        " error_class, reason, event_id, case_id, header_names, header_values) VALUES %s"
        " ON CONFLICT (topic, partition, \"offset\") DO NOTHING",
        [
            (
                r.topic, r.partition, r.offset, r.key, r.value, why.stage.value, why.error_class,
                why.reason, None if why.event is None else why.event.event_id,
                None if why.event is None else why.event.case_id,
                [k for k, _ in r.headers], [v for _, v in r.headers],
            )
            for r, why in dead
        ],
    )  # fmt: skip


_WRITE_POSITIONS = (
    "INSERT INTO consumer_positions (topic, partition, next_offset, applied, ignored,"
    " not_targeted, held, dead_lettered) VALUES %s"
    " ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset,"
    " applied = consumer_positions.applied + EXCLUDED.applied,"
    " ignored = consumer_positions.ignored + EXCLUDED.ignored,"
    " not_targeted = consumer_positions.not_targeted + EXCLUDED.not_targeted,"
    " held = consumer_positions.held + EXCLUDED.held,"
    " dead_lettered = consumer_positions.dead_lettered + EXCLUDED.dead_lettered,"
    " updated_at = now()"
)
_WRITE_POSITIONS_RELAXED = "SET LOCAL synchronous_commit TO OFF; " + _WRITE_POSITIONS


def write_positions(cur: Any, plan: BatchPlan, *, wait_for_flush: bool = True) -> None:
    """Advance each partition's position and add the batch's counts, in the same transaction.

    Without ``wait_for_flush`` the commit returns before its WAL reaches the disk (set in the
    same round trip).
    """
    rows = []
    for tp, next_offset in plan.next_offsets.items():
        c = plan.counts[tp]
        rows.append(
            (tp[0], tp[1], next_offset, c.applied, c.ignored, c.not_targeted, c.held,
             c.dead_lettered)
        )  # fmt: skip
    execute_values(cur, _WRITE_POSITIONS if wait_for_flush else _WRITE_POSITIONS_RELAXED, rows)


class RowText(NamedTuple):
    """An event's rows in COPY text format: its mirror row (None: not formatted) and its
    history row."""

    event: CaseEvent  # the event they were formatted from
    mirror: str | None
    history: str


RowTexts = dict[tuple[str, int, int], RowText]  # by (topic, partition, offset) of the record


def row_texts(records: Sequence[Incoming], outcomes: Sequence[Outcome]) -> RowTexts:
    """The rows of every event in a triaged batch, formatted before its transaction.

    Why ahead: the consumer's polling thread formats a batch while the previous one commits,
    so the writer's transaction holds only database work. A case's mirror row is written once
    per batch, from its last applied event: it is formatted ahead only for each case's highest
    version in the batch. A row this misses (an earlier version, when the highest is held or
    refused; an event held by an earlier batch) is formatted when it is written.
    """
    newest: dict[str, int] = {}
    for outcome in outcomes:
        if isinstance(outcome, CaseEvent):
            # No floor: a malformed version (0, negative) is dead-lettered by sequencing, later.
            known = newest.get(outcome.case_id)
            if known is None or outcome.case_version > known:
                newest[outcome.case_id] = outcome.case_version
    return {
        (record.topic, record.partition, record.offset): row_text(
            record, outcome, with_mirror=outcome.case_version == newest[outcome.case_id]
        )
        for record, outcome in zip(records, outcomes, strict=True)
        if isinstance(outcome, CaseEvent)
    }


def row_text(record: Incoming, event: CaseEvent, *, with_mirror: bool = True) -> RowText:
    """``event``'s history row as it came in ``record``, and its mirror row if asked for."""
    return RowText(event, mirror_line(event) if with_mirror else None, history_line(record, event))


def history_line(record: Incoming, event: CaseEvent) -> str:
    """The history row ``event`` leaves, as it came in ``record``, in COPY text format."""
    return _line([
        event.case_id, str(event.case_version), event.event_id, event.event_type,
        event.snapshot.state, event.source_region, event.occurred_at.isoformat(), record.topic,
        str(record.partition), str(record.offset),
    ])  # fmt: skip


def mirror_line(event: CaseEvent) -> str:
    """The mirror row ``event`` leaves, in COPY text format."""
    s = event.snapshot
    # StrEnum members join as their values. The snapshot's key order does not matter: jsonb
    # normalises it, and digests read jsonb back.
    return _line([
        event.case_id, event.source_region, str(event.case_version), s.state, s.item_code,
        s.handling_mode, s.step_owner, s.promised_deadline.isoformat(), event.correlation_id,
        event.occurred_at.isoformat(), snapshot_json_text(s), event.event_id,
    ])  # fmt: skip


def _line(fields: list[str]) -> str:
    # Escaping field by field is slow and almost never changes anything: join first, and
    # escape only when the joined line holds a character COPY treats specially.
    line = "\t".join(fields)
    if "\\" in line or "\n" in line or "\r" in line or line.count("\t") != len(fields) - 1:
        line = "\t".join([text(field) for field in fields])
    return line + "\n"


def _ready(applied: Applied, ahead: RowTexts | None) -> RowText | None:
    record = applied.record
    ready = None if ahead is None else ahead.get((record.topic, record.partition, record.offset))
    return ready if ready is not None and ready.event is applied.event else None


def _mirror_line(applied: Applied, ahead: RowTexts | None) -> str:
    ready = _ready(applied, ahead)
    if ready is not None and ready.mirror is not None:
        return ready.mirror
    return mirror_line(applied.event)


def _history_line(applied: Applied, ahead: RowTexts | None) -> str:
    ready = _ready(applied, ahead)
    if ready is not None:
        return ready.history
    return history_line(applied.record, applied.event)  # e.g. an event held by an earlier batch


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
