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
