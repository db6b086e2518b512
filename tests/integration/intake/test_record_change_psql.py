"""casesync_api.record_change from psql: the change and the caller's own row commit or vanish
together, and each refused change raises its documented SQLSTATE and leaves nothing behind."""

from __future__ import annotations

import time

import pytest

from .conftest import SUBMISSION, SqlRegion, finished

pytestmark = pytest.mark.integration


def test_a_committed_change_writes_the_case_its_history_one_outbox_row_and_the_callers_row(
    sql_region: SqlRegion,
) -> None:
    """psql commits a submission: one case at version 1, one history row, one outbox row
    waiting to be encoded, and the regional system's own row."""
    code, out, err = finished(sql_region.psql("RD-1", "CASE_SUBMITTED", 0, SUBMISSION))
    assert code == 0, err
    assert out.split()[0].startswith("1|")
    assert sql_region.counts() == {"cases": 1, "case_history": 1, "outbox": 1, "regional_notes": 1}
    assert sql_region.query("SELECT payload IS NULL, pending_event IS NOT NULL FROM outbox") == [
        (True, True)
    ]


def test_a_rolled_back_change_leaves_nothing(sql_region: SqlRegion) -> None:
    """psql rolls back after recording: no case, history, outbox or own row remains."""
    code, _, err = finished(
        sql_region.psql("RD-1", "CASE_SUBMITTED", 0, SUBMISSION, finish="ROLLBACK")
    )
    assert code == 0, err
    assert sql_region.counts() == {"cases": 0, "case_history": 0, "outbox": 0, "regional_notes": 0}


def test_an_illegal_transition_raises_cs002_and_leaves_nothing(sql_region: SqlRegion) -> None:
    """Approving a case that was only submitted raises SQLSTATE CS002; psql stops, and neither
    the change nor the caller's own row of that transaction is written."""
    assert finished(sql_region.psql("RD-1", "CASE_SUBMITTED", 0, SUBMISSION))[0] == 0
    before = sql_region.counts()
    code, _, err = finished(sql_region.psql("RD-1", "CASE_APPROVED", 1))
    assert code == 3
    assert "CS002" in err
    assert "CASE_APPROVED is not allowed from SUBMITTED" in err
    assert sql_region.counts() == before
    assert sql_region.query("SELECT version, state FROM cases") == [(1, "SUBMITTED")]


def test_the_loser_of_a_race_for_one_version_raises_cs001(sql_region: SqlRegion) -> None:
    """Two transactions accept the same version of one case: the second waits for the first
    and then raises CS001; exactly one acceptance is recorded."""
    assert finished(sql_region.psql("RD-1", "CASE_SUBMITTED", 0, SUBMISSION))[0] == 0
    first = sql_region.psql("RD-1", "CASE_ACCEPTED", 1, hold_s=2)
    _wait_for_lock_holder(sql_region)
    second = sql_region.psql("RD-1", "CASE_ACCEPTED", 1)
    code_second, _, err_second = finished(second)
    code_first, _, err_first = finished(first)
    assert code_first == 0, err_first
    assert code_second == 3
    assert "CS001" in err_second
    assert "expected version 1, but it is at version 2" in err_second
    assert sql_region.query("SELECT version, state FROM cases") == [(2, "ACCEPTED")]
    assert sql_region.counts()["outbox"] == 2


def _wait_for_lock_holder(sql_region: SqlRegion) -> None:
    """Until some session sleeps inside its transaction (the first client holds the case)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if sql_region.query(
            "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%%'"
            " AND state = 'active' AND datname = current_database()"
        ):
            return
        time.sleep(0.05)
    raise AssertionError("the first client never reached its hold")
