"""Recording a case change writes case, history and outbox rows together, or nothing at all."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest

from casesync.adapters.postgres import connect, transaction
from casesync.domain.errors import IllegalTransition
from casesync.domain.vocabulary import EventType
from producers.changes import CaseChange
from producers.errors import ConcurrentChange

from .conftest import HOUSING_WITHDRAWAL, RUDONG, TONGXIANG, SourceRegion, new_case, next_change

pytestmark = pytest.mark.integration

# cases + 1000 x history rows + 1e6 x outbox rows, in one number
COUNTS = (
    "SELECT (SELECT count(*) FROM cases) + (SELECT count(*) FROM case_history) * 1000"
    " + (SELECT count(*) FROM outbox) * 1000000"
)


def test_a_change_writes_case_history_and_outbox_in_one_transaction(
    source_region: SourceRegion,
) -> None:
    """One submission leaves one case row, one history row and one outbox row."""
    source_region.record([new_case("RD-1")])
    assert source_region.scalar(COUNTS) == 1_001_001


def test_emit_takes_the_regions_local_item_code_and_records_the_national_one(
    source_region: SourceRegion,
) -> None:
    """`casesync emit --item` with Rudong's own code for an item records its national code."""
    env = {
        **os.environ,
        **source_region.services.kafka.environment(),
        "CASESYNC_DATABASE_URL": source_region.url,
    }
    emit = [sys.executable, "-m", "casesync", "emit", "--region", RUDONG, "--event",
            "CASE_SUBMITTED", "--mode", "FULLY_ONLINE", "--applicant-name", "王芳",
            "--id-number", "330483199001011234", "--target", TONGXIANG]  # fmt: skip
    local = subprocess.run([*emit, "--case", "RD-L", "--item", "JS32062300002"], env=env,
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert local.returncode == 0, local.stderr
    recorded = "SELECT count(*) FROM cases WHERE case_id = 'RD-L' AND item_code = '002023002000'"
    assert HOUSING_WITHDRAWAL == "002023002000"
    assert source_region.scalar(recorded) == 1
    unknown = subprocess.run([*emit, "--case", "RD-U", "--item", "JS-NO-SUCH"], env=env,
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines() == [
        "casesync: 'JS-NO-SUCH' is neither a national item code nor a local one of region 320623"
    ]


def test_illegal_transition_is_rejected_and_writes_nothing(source_region: SourceRegion) -> None:
    """Delivering a result of a merely submitted case raises IllegalTransition, writes nothing."""
    source_region.record([new_case("RD-1")])
    with pytest.raises(IllegalTransition):
        source_region.record([CaseChange("RD-1", EventType.RESULT_DELIVERED, 1, datetime.now(UTC))])
    assert source_region.scalar(COUNTS) == 1_001_001


def test_a_stale_expected_version_loses_and_writes_nothing(source_region: SourceRegion) -> None:
    """A change made against version 1 after the case moved to 2 raises ConcurrentChange."""
    source_region.record([new_case("RD-1"), next_change("RD-1", 1)])
    with pytest.raises(ConcurrentChange, match="expected version 1"):
        source_region.record([CaseChange("RD-1", EventType.CASE_WITHDRAWN, 1, datetime.now(UTC))])
    assert source_region.scalar("SELECT version FROM cases WHERE case_id = 'RD-1'") == 2
    assert source_region.scalar(COUNTS) == 2_002_001


def test_two_concurrent_changes_from_one_version_let_exactly_one_win(
    source_region: SourceRegion,
) -> None:
    """Two transactions changing version 1 at once: one commits, the other ConcurrentChange."""
    source_region.record([new_case("RD-1")])
    first, second = connect(source_region.url), connect(source_region.url)
    outcome: list[BaseException | None] = []
    try:
        with transaction(first) as cur:
            source_region.recorder.record(cur, next_change("RD-1", 1))

            def race() -> None:
                try:
                    with transaction(second) as other:
                        source_region.recorder.record(
                            other, CaseChange("RD-1", EventType.CASE_REFUSED, 1, datetime.now(UTC))
                        )
                    outcome.append(None)
                except ConcurrentChange as e:
                    outcome.append(e)

            racer = threading.Thread(target=race)
            racer.start()
            racer.join(timeout=1)  # blocked on the first transaction's row lock
            assert racer.is_alive()
        racer.join(timeout=10)  # the first committed: the second re-checks and loses
    finally:
        first.close()
        second.close()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ConcurrentChange)
    assert source_region.scalar("SELECT count(*) FROM outbox") == 2


def test_bulk_changes_keep_each_case_in_version_order_in_the_outbox(
    source_region: SourceRegion,
) -> None:
    """A bulk record of interleaved cases gives outbox ids in each case's version order."""
    changes = []
    for step in range(5):
        for n in range(20):
            changes.append(new_case(f"RD-{n}") if step == 0 else next_change(f"RD-{n}", step))
    source_region.record(changes)
    conn = connect(source_region.url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT case_id, case_version FROM outbox ORDER BY id")
            rows = cur.fetchall()
    finally:
        conn.close()
    for n in range(20):
        assert [v for c, v in rows if c == f"RD-{n}"] == [1, 2, 3, 4, 5]
    assert source_region.scalar("SELECT count(DISTINCT state) FROM cases") == 1
