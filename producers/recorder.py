"""Record case changes in the region's PostgreSQL: case row, history row and outbox row, all in
the caller's transaction. The event exists (in the outbox) exactly when the change commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from casesync.adapters.copying import copy_rows
from casesync.contract.codec import CaseEventCodec
from casesync.domain.catalogue import Catalogue
from casesync.domain.events import CaseEvent
from casesync.domain.workdays import WorkingCalendar
from casesync.snapshots import snapshot_from_json, snapshot_json_text
from producers.changes import CaseChange, CurrentCase, build_event
from producers.errors import ConcurrentChange

_PAGE = 1000
_CASE_COLUMNS = (
    "case_id", "version", "state", "item_code", "handling_mode", "step_owner",
    "promised_deadline", "correlation_id", "target_regions", "updated_at", "snapshot", "expected",
)  # fmt: skip
_HISTORY_COLUMNS = ("case_id", "version", "event_id", "event_type", "state", "occurred_at")
_OUTBOX_COLUMNS = (
    "event_id", "case_id", "case_version", "event_type", "payload", "target_regions",
)  # fmt: skip


class CaseRecorder:
    """Records changes made by one region. Holds no connection: pass the caller's cursor."""

    def __init__(
        self,
        region: str,
        catalogue: Catalogue,
        calendar: WorkingCalendar,
        codec: CaseEventCodec,
    ) -> None:
        self.region = region
        self._catalogue = catalogue
        self._calendar = calendar
        self._codec = codec

    def record(self, cur: Any, change: CaseChange) -> CaseEvent:
        """Record one change; see ``record_many``."""
        return self.record_many(cur, [change])[0]

    def record_many(self, cur: Any, changes: Sequence[CaseChange]) -> list[CaseEvent]:
        """Record changes in order, in the caller's transaction; return their events.

        Steps:
          1. read the current version and snapshot of every touched case (one query);
          2. build each event in memory (several changes to one case chain in order);
          3. write the cases with a version guard: a case changed by someone else since step 1
             raises ConcurrentChange, and the caller's rollback then leaves nothing written;
          4. write history and outbox rows.
        Any error (illegal transition, lost race) raises before the caller commits.
        """
        current = self._read_current(cur, {change.case_id for change in changes})
        read_versions = {case_id: case.version for case_id, case in current.items()}
        events = []
        for change in changes:
            event = build_event(
                self.region, change, current.get(change.case_id), self._catalogue, self._calendar
            )
            current[change.case_id] = CurrentCase(
                event.case_version, event.snapshot, event.correlation_id, event.target_regions
            )
            events.append(event)
        self._write_cases(cur, events, read_versions)
        self._write_history_and_outbox(cur, events)
        return events

    @staticmethod
    def _read_current(cur: Any, case_ids: set[str]) -> dict[str, CurrentCase]:
        cur.execute(
            "SELECT case_id, version, snapshot, correlation_id, target_regions FROM cases"
            " WHERE case_id = ANY(%s)",
            (list(case_ids),),
        )
        return {
            case_id: CurrentCase(version, snapshot_from_json(snapshot), correlation, tuple(targets))
            for case_id, version, snapshot, correlation, targets in cur.fetchall()
        }

    @staticmethod
    def _write_cases(cur: Any, events: list[CaseEvent], read_versions: dict[str, int]) -> None:
        """COPY each case's last state into a session temp table, then insert the new cases
        and update the changed ones from it, the update guarded by the version read in step 1."""
        latest: dict[str, CaseEvent] = {}
        for event in events:
            latest[event.case_id] = event  # only each case's last state is written
        rows = []
        for case_id, event in latest.items():
            snapshot = event.snapshot
            rows.append((
                case_id, event.case_version, snapshot.state.value, snapshot.item_code,
                snapshot.handling_mode.value, snapshot.step_owner, snapshot.promised_deadline,
                event.correlation_id, "{" + ",".join(event.target_regions) + "}",
                event.occurred_at, snapshot_json_text(snapshot),
                read_versions.get(case_id, 0),
            ))  # fmt: skip
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS case_changes"
            " (LIKE cases, expected integer NOT NULL) ON COMMIT DELETE ROWS"
        )
        copy_rows(cur, "case_changes", _CASE_COLUMNS, rows)
        expected_new = sum(1 for row in rows if row[-1] == 0)
        if expected_new:
            cur.execute(
                "INSERT INTO cases SELECT case_id, version, state, item_code, handling_mode,"
                " step_owner, promised_deadline, correlation_id, target_regions, updated_at,"
                " snapshot FROM case_changes WHERE expected = 0"
                " ON CONFLICT (case_id) DO NOTHING RETURNING case_id"
            )
            _require_all([r for r in rows if r[-1] == 0], cur.fetchall())
        if len(rows) > expected_new:
            # The version guard: a row another transaction moved on since step 1 does not match.
            cur.execute(
                "UPDATE cases AS c SET version = v.version, state = v.state,"
                " step_owner = v.step_owner, updated_at = v.updated_at, snapshot = v.snapshot"
                " FROM case_changes AS v WHERE v.expected > 0"
                " AND c.case_id = v.case_id AND c.version = v.expected RETURNING c.case_id"
            )
            _require_all([r for r in rows if r[-1] > 0], cur.fetchall())

    def _write_history_and_outbox(self, cur: Any, events: list[CaseEvent]) -> None:
        encode = self._codec.encode
        history, outbox = [], []
        for event in events:
            history.append(
                (event.case_id, event.case_version, event.event_id, event.event_type.value,
                 event.snapshot.state.value, event.occurred_at)
            )  # fmt: skip
            outbox.append(
                (event.event_id, event.case_id, event.case_version, event.event_type.value,
                 encode(event), "{" + ",".join(event.target_regions) + "}")
            )  # fmt: skip
        copy_rows(cur, "case_history", _HISTORY_COLUMNS, history)
        # Rows go in event order, so outbox ids follow each case's versions.
        copy_rows(cur, "outbox", _OUTBOX_COLUMNS, outbox)


def _require_all(rows: list[tuple[Any, ...]], written: list[tuple[Any, ...]]) -> None:
    """Raise ConcurrentChange for the first row the guarded write did not touch."""
    if len(written) != len(rows):
        done = {row[0] for row in written}
        lost = next(row for row in rows if row[0] not in done)
        raise ConcurrentChange(lost[0], lost[-1], None)
