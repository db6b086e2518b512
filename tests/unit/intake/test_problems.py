"""Answer codes: the SQL interface's SQLSTATEs carry over to HTTP with fixed statuses."""

from __future__ import annotations

import pytest

from casesync.intake.problems import CODES, refusal_for_sqlstate, status_of


@pytest.mark.parametrize(
    ("sqlstate", "status"),
    [("CS001", 409), ("CS002", 422), ("CS003", 403), ("CS007", 422), ("CS010", 503)],
)
def test_a_record_change_sqlstate_becomes_its_code_and_status(sqlstate: str, status: int) -> None:
    """A CS refusal keeps its code and message; its status says whose fault it is."""
    refusal = refusal_for_sqlstate(sqlstate, "why")
    assert refusal is not None
    assert (refusal.code, refusal.message, status_of(refusal.code)) == (sqlstate, "why", status)


@pytest.mark.parametrize("sqlstate", [None, "23505", "40001", "CS999"])
def test_any_other_sqlstate_is_no_refusal(sqlstate: str | None) -> None:
    """Other database errors are not a broken rule (they are answered as failures)."""
    assert refusal_for_sqlstate(sqlstate, "why") is None


def test_every_cs_code_of_the_sql_interface_has_an_answer() -> None:
    """CS001 to CS010, the SQLSTATEs the README documents, are all answer codes."""
    assert {f"CS{n:03d}" for n in range(1, 11)} <= set(CODES)
