"""Every refusal of casesync_api.record_change raises the SQLSTATE the README documents, and the
caller's transaction then leaves nothing behind."""

from __future__ import annotations

import json
from typing import Any

import psycopg2
import pytest

from casesync.adapters.postgres import connect, transaction
from producers.app import load_recording_rules

from .conftest import SUBMISSION, TONGXIANG, SqlRegion

pytestmark = pytest.mark.integration

NO_IDENTIFIERS_ITEM = "002010010000"  # needs neither id_number nor credit_code
UNSHARED_ITEM = "002019005000"  # in no agreement of Rudong's


def _record(
    region: SqlRegion, case_id: str, event: str, expected: int, fields: dict[str, Any],
    occurred_at: str | None = None,
) -> None:  # fmt: skip
    conn = connect(region.url)
    try:
        with transaction(conn) as cur:
            cur.execute(
                "SELECT * FROM casesync_api.record_change(%s, %s, %s, %s::jsonb,"
                " coalesce(%s::timestamptz, now()))",
                (case_id, event, expected, json.dumps(fields), occurred_at),
            )
    finally:
        conn.close()


def _sqlstate(region: SqlRegion, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(psycopg2.Error) as caught:
        _record(region, *args, **kwargs)
    return str(caught.value.pgcode)


@pytest.mark.parametrize(
    ("sqlstate", "event", "expected", "fields"),
    [
        ("CS001", "CASE_SUBMITTED", 3, SUBMISSION),
        ("CS002", "CASE_ACCEPTED", 0, SUBMISSION),
        ("CS004", "CASE_SUBMITTED", 0, {**SUBMISSION, "item_code": "NOPE00000000"}),
        ("CS005", "CASE_SUBMITTED", 0, {**SUBMISSION, "handling_mode": "JOINT"}),
        ("CS006", "CASE_SUBMITTED", 0, {**SUBMISSION, "item_code": NO_IDENTIFIERS_ITEM}),
        ("CS007", "CASE_SUBMITTED", 0, {**SUBMISSION, "item_code": UNSHARED_ITEM}),
        ("CS007", "CASE_SUBMITTED", 0, {**SUBMISSION, "target_regions": ["999999"]}),
        ("CS008", "CASE_SUBMITTED", 0, {"item_code": "002023002000"}),
        ("CS008", "CASE_SUBMITTED", 0, {**SUBMISSION, "applicant": {"kind": "ROBOT"}}),
    ],
)
def test_a_refused_new_case_raises_its_sqlstate_and_writes_nothing(
    sql_region: SqlRegion, sqlstate: str, event: str, expected: int, fields: dict[str, Any]
) -> None:
    """Each rule a new case can break has its own SQLSTATE; no row is left."""
    assert _sqlstate(sql_region, "RD-1", event, expected, fields) == sqlstate
    assert sql_region.counts() == {"cases": 0, "case_history": 0, "outbox": 0, "regional_notes": 0}


def test_a_date_outside_the_working_day_calendar_raises_cs009(sql_region: SqlRegion) -> None:
    """A submission dated before the holiday data cannot get a deadline: CS009."""
    state = _sqlstate(sql_region, "RD-1", "CASE_SUBMITTED", 0, SUBMISSION, "2001-01-01T00:00Z")
    assert state == "CS009"


def test_a_case_of_another_region_raises_cs003(sql_region: SqlRegion) -> None:
    """A database whose rules say it is Tongxiang's may not change a case Rudong owns."""
    _record(sql_region, "RD-1", "CASE_SUBMITTED", 0, SUBMISSION)
    conn = connect(sql_region.url)
    try:
        load_recording_rules(conn, TONGXIANG)
    finally:
        conn.close()
    assert _sqlstate(sql_region, "RD-1", "CASE_ACCEPTED", 1, {}) == "CS003"
    assert sql_region.query("SELECT version FROM cases") == [(1,)]


def test_a_database_without_rules_raises_cs010(sql_region: SqlRegion) -> None:
    """Before region init has loaded the rules, every call raises CS010."""
    sql_region.query("TRUNCATE casesync_rules.own_region")
    assert _sqlstate(sql_region, "RD-1", "CASE_SUBMITTED", 0, SUBMISSION) == "CS010"
