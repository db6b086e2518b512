"""The rule rows record_change reads are the shipped domain data, nothing typed by hand."""

from __future__ import annotations

from datetime import date

import pytest

from casesync.domain.errors import UnknownRegion
from casesync.domain.holidays import shipped_calendar
from casesync.domain.lifecycle import TRANSITIONS
from casesync.domain.loading import shipped_catalogue
from producers.intake_rules import COLUMNS, PROVISIONAL_YEARS, rule_rows

RUDONG = "320623"


def test_every_table_gets_rows_of_its_own_width() -> None:
    """Each table's rows carry exactly the columns ``load_rules`` names for it."""
    rules = rule_rows(RUDONG, shipped_catalogue(), shipped_calendar())
    assert set(rules.tables) == set(COLUMNS)
    for name, rows in rules.tables.items():
        assert rows, name
        assert {len(row) for row in rows} == {len(COLUMNS[name])}, name


def test_transitions_are_the_lifecycle_of_every_mode() -> None:
    """One transition row per (mode, from, event) of ``casesync.domain.lifecycle``."""
    rules = rule_rows(RUDONG, shipped_catalogue(), shipped_calendar())
    assert len(rules.tables["transitions"]) == sum(len(t) for t in TRANSITIONS.values())
    assert ("FULLY_ONLINE", None, "CASE_SUBMITTED", "SUBMITTED") in rules.tables["transitions"]


def test_working_days_are_numbered_as_the_python_calendar_counts_them() -> None:
    """The k-th working-day row is the calendar's k-th working day, through the provisional
    years; so the SQL deadline (ordinal lookup) equals ``add_working_days``."""
    calendar = shipped_calendar()
    days = rule_rows(RUDONG, shipped_catalogue(), calendar).tables["working_days"]
    first, last = days[0][0], days[-1][0]
    assert isinstance(first, date)
    assert isinstance(last, date)
    assert first.year == min(calendar.years)
    assert last.year == max(calendar.years) + PROVISIONAL_YEARS
    start = date(min(calendar.years), 9, 26)
    before = sum(1 for day, _ in days if isinstance(day, date) and day <= start)
    assert days[before + 20 - 1][0] == calendar.add_working_days(start, 20)


def test_an_unknown_region_is_refused() -> None:
    """Rules are only built for a catalogue region."""
    with pytest.raises(UnknownRegion):
        rule_rows("999999", shipped_catalogue(), shipped_calendar())
