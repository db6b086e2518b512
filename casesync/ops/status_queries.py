"""What ``ops status`` reads from a region's PostgreSQL: outbox, positions, dead letters, overdue.

Each function takes the caller's cursor and returns plain values; judging them is ``status``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from casesync.domain.lifecycle import TERMINAL_STATES
from casesync.domain.workdays import WorkingCalendar
from producers.outbox_store import Backlog, read_backlog

_TERMINAL = sorted(state.value for state in TERMINAL_STATES)
# By stage and class: reasons name the event or fingerprint, so each would count once.
_BY_CLASS = (
    "SELECT d.stage, d.error_class, count(*), min(d.dead_at), max(d.dead_at),"
    " (array_agg(d.reason ORDER BY d.id DESC))[1]"
    " FROM dead_letters d {where}"
    " GROUP BY d.stage, d.error_class ORDER BY count(*) DESC, d.stage, d.error_class"
)
_ALL_DEAD_LETTERS = _BY_CLASS.format(where="")
_OPEN_DEAD_LETTERS = _BY_CLASS.format(
    where="WHERE NOT EXISTS (SELECT 1 FROM dead_letter_redrives r"
    " WHERE r.dead_letter_id = d.id AND r.resolved)"
)


@dataclass(frozen=True, slots=True)
class StoredPosition:
    """A partition's stored next offset and how long ago it last moved."""

    next_offset: int
    moved_ago_s: float


@dataclass(frozen=True, slots=True)
class OverdueCase:
    """A case still open after its promised completion date (承诺办结时限)."""

    case_id: str
    side: str  # "owned" or "mirror"
    state: str
    item_code: str
    promised_deadline: date
    working_days_overdue: int


def outbox_backlog(cur: Any) -> Backlog:
    """Unpublished rows, the age of the oldest, and rows refused at encoding."""
    return read_backlog(cur)


def positions(cur: Any, topics: Sequence[str]) -> dict[tuple[str, int], StoredPosition]:
    """Stored positions of the partitions of ``topics``."""
    cur.execute(
        "SELECT topic, partition, next_offset, extract(epoch FROM now() - updated_at)"
        " FROM consumer_positions WHERE topic = ANY(%s)",
        (list(topics),),
    )
    return {
        (topic, partition): StoredPosition(int(offset), float(age))
        for topic, partition, offset, age in cur.fetchall()
    }


def dead_letters_by_class(cur: Any) -> list[dict[str, Any]]:
    """Dead letters not (yet) resolved by a redrive, counted by stage and error class, each
    with the reason of its latest one.

    A database from before redrives existed (migration 002 not applied) counts every one.
    """
    cur.execute("SELECT to_regclass('dead_letter_redrives') IS NOT NULL")
    cur.execute(_OPEN_DEAD_LETTERS if cur.fetchone()[0] else _ALL_DEAD_LETTERS)
    return [
        {"stage": stage, "error_class": error_class, "count": int(count),
         "first": first.isoformat(), "last": last.isoformat(), "latest_reason": reason}
        for stage, error_class, count, first, last, reason in cur.fetchall()
    ]  # fmt: skip


def overdue_cases(
    cur: Any, today: date, calendar: WorkingCalendar, limit: int = 1000
) -> list[OverdueCase]:
    """Owned and mirrored cases still open after their promised deadline, oldest first."""
    cur.execute(
        "SELECT case_id, 'owned', state, item_code, promised_deadline FROM cases"
        " WHERE promised_deadline < %(today)s AND state <> ALL(%(terminal)s)"
        " UNION ALL"
        " SELECT case_id, 'mirror', state, item_code, promised_deadline FROM mirror_cases"
        " WHERE promised_deadline < %(today)s AND state <> ALL(%(terminal)s)"
        " ORDER BY promised_deadline, case_id LIMIT %(limit)s",
        {"today": today, "terminal": _TERMINAL, "limit": limit},
    )
    return [
        OverdueCase(case_id, side, state, item, deadline,
                    calendar.working_days_between(deadline, today))
        for case_id, side, state, item, deadline in cur.fetchall()
        if calendar.is_overdue(deadline, today)
    ]  # fmt: skip


def applied_recently(cur: Any, window_s: float) -> list[dict[str, Any]]:
    """Partner events applied in the last ``window_s`` seconds by source (and all together,
    source None): how many, and the sync latency p50/p99 in seconds (occurred to applied)."""
    cur.execute(
        "SELECT source_region, count(*), percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP"
        " (ORDER BY extract(epoch FROM applied_at - occurred_at))"
        " FROM mirror_history WHERE applied_at > clock_timestamp() - make_interval(secs => %s)"
        " GROUP BY GROUPING SETS ((source_region), ()) ORDER BY source_region NULLS FIRST",
        (window_s,),
    )
    return [
        {"source": source, "count": int(count),
         "latency_p50_s": None if p is None else round(p[0], 4),
         "latency_p99_s": None if p is None else round(p[1], 4)}
        for source, count, p in cur.fetchall()
    ]  # fmt: skip


def recent_workflows(cur: Any, since_s: float, limit: int) -> list[dict[str, Any]]:
    """The region's own multi-region workflow cases (those that requested a partner's step)
    open, or touched in the last ``since_s`` seconds: state and every event with its time."""
    cur.execute(
        "SELECT c.case_id, c.state, h.event_type, h.occurred_at"
        " FROM (SELECT case_id, state, updated_at FROM cases"
        "       WHERE case_id IN (SELECT case_id FROM case_history"
        "                         WHERE event_type = 'STEP_REQUESTED')"
        "       AND (state <> ALL(%s) OR updated_at > now() - make_interval(secs => %s))"
        "       ORDER BY updated_at DESC LIMIT %s) c"
        " JOIN case_history h USING (case_id) ORDER BY c.updated_at DESC, c.case_id, h.version",
        (_TERMINAL, since_s, limit),
    )
    workflows: dict[str, dict[str, Any]] = {}
    for case_id, state, event_type, at in cur.fetchall():
        case = workflows.setdefault(case_id, {"case_id": case_id, "state": state, "events": []})
        case["events"].append({"event_type": event_type, "at": at.isoformat()})
    return list(workflows.values())
