"""Record case changes in the region's PostgreSQL: case row, history row and outbox row, all in
the caller's transaction. The event exists (in the outbox) exactly when the change commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg2.extras import Json, execute_values

from casesync.contract.codec import CaseEventCodec
from casesync.domain.catalogue import Catalogue
from casesync.domain.events import CaseEvent
from casesync.domain.workdays import WorkingCalendar
from casesync.snapshots import canonical, snapshot_from_json, snapshot_to_json
from producers.changes import CaseChange, CurrentCase, build_event
from producers.errors import ConcurrentChange

_PAGE = 1000


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
        latest: dict[str, CaseEvent] = {}
        for event in events:
            latest[event.case_id] = event  # only each case's last state is written
        rows_new, rows_changed = [], []
        for case_id, event in latest.items():
            snapshot = event.snapshot
            row = (
                case_id, event.case_version, snapshot.state.value, snapshot.item_code,
                snapshot.handling_mode.value, snapshot.step_owner, snapshot.promised_deadline,
                event.correlation_id, list(event.target_regions), event.occurred_at,
                Json(snapshot_to_json(snapshot), dumps=canonical),
            )  # fmt: skip
            if case_id in read_versions:
                rows_changed.append((*row, read_versions[case_id]))
            else:
                rows_new.append(row)
        if rows_new:
            created = execute_values(
                cur,
                "INSERT INTO cases (case_id, version, state, item_code, handling_mode,"
                " step_owner, promised_deadline, correlation_id, target_regions, updated_at,"
                " snapshot)"
                " VALUES %s ON CONFLICT (case_id) DO NOTHING RETURNING case_id",
                rows_new,
                page_size=_PAGE,
                fetch=True,
            )
            _require_all(rows_new, created, expected_version=0)
        if rows_changed:
            # The version guard: a row another transaction moved on since step 1 does not match.
            updated = execute_values(
                cur,
                "UPDATE cases AS c SET version = v.version, state = v.state,"
                " step_owner = v.step_owner, updated_at = v.updated_at, snapshot = v.snapshot"
                " FROM (VALUES %s) AS v(case_id, version, state, item_code, handling_mode,"
                " step_owner, promised_deadline, correlation_id, target_regions, updated_at,"
                " snapshot, expected)"
                " WHERE c.case_id = v.case_id AND c.version = v.expected RETURNING c.case_id",
                rows_changed,
                template=(
                    "(%s, %s, %s, %s, %s, %s, %s::date, %s, %s::text[], %s::timestamptz,"
                    " %s::jsonb, %s)"
                ),
                page_size=_PAGE,
                fetch=True,
            )
            if len(updated) != len(rows_changed):
                done = {row[0] for row in updated}
                lost = next(row for row in rows_changed if row[0] not in done)
                raise ConcurrentChange(lost[0], lost[-1], None)

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
                 encode(event))
            )  # fmt: skip
        execute_values(
            cur,
            "INSERT INTO case_history (case_id, version, event_id, event_type, state, occurred_at)"
            " VALUES %s",
            history,
            page_size=_PAGE,
        )
        # Rows go in event order, so outbox ids follow each case's versions.
        execute_values(
            cur,
            "INSERT INTO outbox (event_id, case_id, case_version, event_type, payload) VALUES %s",
            outbox,
            page_size=_PAGE,
        )


def _require_all(rows: list[tuple[Any, ...]], returned: list[tuple[Any, ...]], *,
                 expected_version: int) -> None:  # fmt: skip
    if len(returned) != len(rows):
        done = {row[0] for row in returned}
        lost = next(row[0] for row in rows if row[0] not in done)
        raise ConcurrentChange(lost, expected_version, None)
