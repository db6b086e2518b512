"""Working-day arithmetic over public holidays and make-up working days (调休)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casesync.domain.errors import CalendarOutOfRange
from casesync.domain.workdays import WorkingCalendar, china_date


def test_spring_festival_2025_is_skipped(calendar: WorkingCalendar) -> None:
    """From Monday 2025-01-27 one working day jumps the 春节 holiday to 2025-02-05."""
    assert calendar.add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)


def test_makeup_saturday_counts_as_working_day(calendar: WorkingCalendar) -> None:
    """Saturday 2025-02-08 (调休上班) is a working day; an ordinary Saturday is not."""
    assert calendar.is_working_day(date(2025, 2, 8))
    assert not calendar.is_working_day(date(2025, 2, 15))
    assert calendar.add_working_days(date(2025, 2, 7), 1) == date(2025, 2, 8)


def test_national_day_2026_with_makeup_days(calendar: WorkingCalendar) -> None:
    """Around 国庆 2026: Sunday 09-20 works, 10-01..07 rest, Saturday 10-10 works."""
    assert calendar.is_working_day(date(2026, 9, 20))
    assert not calendar.is_working_day(date(2026, 10, 5))
    assert calendar.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert calendar.working_days_between(date(2026, 10, 7), date(2026, 10, 11)) == 3


def test_zero_days_moves_to_the_next_working_day(calendar: WorkingCalendar) -> None:
    """Adding zero working days to a holiday gives the next working day."""
    assert calendar.add_working_days(date(2025, 5, 1), 0) == date(2025, 5, 6)
    assert calendar.add_working_days(date(2025, 5, 6), 0) == date(2025, 5, 6)


def test_years_before_the_data_are_refused(calendar: WorkingCalendar) -> None:
    """A date before the holiday file raises CalendarOutOfRange rather than guessing."""
    with pytest.raises(CalendarOutOfRange):
        calendar.add_working_days(date(2024, 12, 20), 5)


def test_years_after_the_data_count_weekdays_provisionally(calendar: WorkingCalendar) -> None:
    """A limit reaching an unpublished year counts Monday to Friday there, flagged provisional."""
    last = max(calendar.years)
    start = date(last, 12, 30)
    end = calendar.add_working_days(start, 5)
    assert calendar.is_provisional(end)
    assert end.weekday() < 5
    assert not calendar.is_provisional(start)


def test_promised_deadline_uses_china_local_date(calendar: WorkingCalendar) -> None:
    """A case filed at 17:00 UTC Friday is Saturday in China: 20 days count from there."""
    submitted = datetime(2025, 3, 7, 17, 0, tzinfo=UTC)
    assert china_date(submitted) == date(2025, 3, 8)
    deadline = calendar.promised_deadline(submitted, 20)
    assert deadline == date(2025, 4, 7)
    assert calendar.is_overdue(deadline, date(2025, 4, 8))
    assert not calendar.is_overdue(deadline, deadline)


@given(
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 9, 30)),
    n=st.integers(min_value=1, max_value=40),
)
def test_between_inverts_add(calendar: WorkingCalendar, start: date, n: int) -> None:
    """working_days_between(s, add_working_days(s, n)) == n and the result is a working day."""
    end = calendar.add_working_days(start, n)
    assert calendar.is_working_day(end)
    assert calendar.working_days_between(start, end) == n
    assert calendar.working_days_between(end, start) == -n
    assert end - start >= timedelta(days=n)
