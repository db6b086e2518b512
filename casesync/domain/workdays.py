"""Working-day arithmetic on the Chinese official calendar (法定节假日 and 调休).

Promised time limits (承诺办结时限) count working days: weekdays that are not public holidays,
plus the weekend days declared make-up working days (调休上班). The State Council publishes each
year's schedule late in the year before, so a long time limit can reach a year not yet
published: such later years count Monday to Friday, provisionally (``is_provisional``), rather
than refusing to record the case. Years before the data are refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone

from casesync.domain.errors import CalendarOutOfRange

# China keeps one offset all year (no daylight saving), so a fixed offset is exact.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


def china_date(moment: datetime) -> date:
    """The calendar date in China of an aware timestamp (events carry UTC)."""
    if moment.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    return moment.astimezone(CHINA_TZ).date()


class WorkingCalendar:
    """Which days are working days, for the years the holiday data covers."""

    __slots__ = ("_holidays", "_makeup", "_years")

    def __init__(
        self, years: Iterable[int], holidays: Iterable[date], makeup_workdays: Iterable[date]
    ) -> None:
        self._years = frozenset(years)
        self._holidays = frozenset(holidays)
        self._makeup = frozenset(makeup_workdays)

    @property
    def years(self) -> frozenset[int]:
        """The years this calendar knows."""
        return self._years

    def is_working_day(self, day: date) -> bool:
        """Whether government offices work on ``day``."""
        if day.year not in self._years:
            if not self._years or day.year < min(self._years):
                raise CalendarOutOfRange(f"no holiday data for {day.year}")
            return day.weekday() < _SATURDAY  # provisional: schedule not yet published
        if day in self._makeup:
            return True
        return day.weekday() < _SATURDAY and day not in self._holidays

    def is_provisional(self, day: date) -> bool:
        """Whether ``day`` lies in a year after the published schedules (weekdays only)."""
        return bool(self._years) and day.year > max(self._years)

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start``; for n == 0, start or the next working day."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        if n == 0:
            while not self.is_working_day(day):
                day += _ONE_DAY
            return day
        remaining = n
        while remaining:
            day += _ONE_DAY
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when ``end`` is before ``start``.

        Inverse of ``add_working_days`` for n >= 1:
        ``working_days_between(s, add_working_days(s, n)) == n``.
        """
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += _ONE_DAY
            if self.is_working_day(day):
                count += 1
        return count

    def promised_deadline(self, submitted_at: datetime, limit_days: int) -> date:
        """承诺办结时限 as a date: the China-local submission date plus ``limit_days``."""
        return self.add_working_days(china_date(submitted_at), limit_days)

    def is_overdue(self, deadline: date, today: date) -> bool:
        """Whether a case still open on ``today`` has passed its deadline."""
        return today > deadline
