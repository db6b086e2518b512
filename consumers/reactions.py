"""Record this region's workflow answers to applied partner events, in the batch's transaction.

The pure decision is ``consumers.workflow.react``; this module reads the region's own cases it
needs and records the changes through the producer's ``CaseRecorder`` (own case, history and
outbox rows), so an answer exists exactly when the mirrored event and the position commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import structlog

from casesync.domain.catalogue import Catalogue
from casesync.domain.errors import DomainError
from casesync.snapshots import snapshot_from_json
from consumers.planning import Applied
from consumers.records import Incoming, Rejection, Stage
from consumers.workflow import LocalCase, local_cases_needed, may_react, react
from producers.errors import ProducerError
from producers.recorder import CaseRecorder

log = structlog.get_logger(__name__)


class Reactor:
    """Answers workflow steps for one region."""

    def __init__(
        self, recorder: CaseRecorder, catalogue: Catalogue, clock: Callable[[], datetime]
    ) -> None:
        self.region = recorder.region
        self._recorder = recorder
        self._catalogue = catalogue
        self._clock = clock

    def may_write(self, applied: Sequence[Applied]) -> bool:
        """Whether answering ``applied`` may record changes (and so outbox rows) here."""
        return any(may_react(item.event, self.region) for item in applied)

    def react_to(self, cur: Any, applied: Sequence[Applied]) -> list[tuple[Incoming, Rejection]]:
        """Record answers to ``applied`` in order; return the events whose answer failed.

        A failed answer is rolled back to its savepoint and reported as a dead letter of stage
        ``react``: the mirror update stands (the partner's state is a fact), and operators see
        the answer that is missing.
        """
        failed: list[tuple[Incoming, Rejection]] = []
        for item in applied:
            event = item.event
            if not may_react(event, self.region):
                continue
            wanted = local_cases_needed(event, self.region)
            try:
                changes = react(event, self.region, self._catalogue, self._local(cur, wanted),
                                self._clock())  # fmt: skip
            except DomainError as e:
                failed.append((item.record, Rejection.of(Stage.REACT, e, event)))
                continue
            if not changes:
                continue
            cur.execute("SAVEPOINT reaction")
            try:
                recorded = self._recorder.record_many(cur, changes)
            except (DomainError, ProducerError) as e:
                cur.execute("ROLLBACK TO SAVEPOINT reaction")
                failed.append((item.record, Rejection.of(Stage.REACT, e, event)))
                continue
            cur.execute("RELEASE SAVEPOINT reaction")
            answers = [f"{e.case_id}@{e.case_version} {e.event_type}" for e in recorded]
            log.info("workflow answered", trigger=event.event_id, answers=answers)
        return failed

    @staticmethod
    def _local(cur: Any, case_ids: frozenset[str]) -> dict[str, LocalCase]:
        if not case_ids:
            return {}
        cur.execute(
            "SELECT case_id, version, snapshot FROM cases WHERE case_id = ANY(%s)",
            (list(case_ids),),
        )
        return {
            case_id: LocalCase(version, snapshot_from_json(snapshot))
            for case_id, version, snapshot in cur.fetchall()
        }
