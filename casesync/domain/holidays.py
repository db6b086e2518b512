"""Load the holiday file (法定节假日 and 调休上班 days) into a WorkingCalendar."""

from __future__ import annotations

import functools
from datetime import date, timedelta
from pathlib import Path

from casesync.domain._reading import Reader
from casesync.domain.workdays import WorkingCalendar

HOLIDAYS_FILE = Path(__file__).parent / "data" / "holidays.json"
_STATUSES = ("official", "approximate")
_SATURDAY = 5


def load_calendar(path: Path | None = None) -> WorkingCalendar:
    """Read a holiday file; raise CatalogueError naming the file and problem."""
    reader = Reader(path or HOLIDAYS_FILE)
    years = reader.obj(reader.load().get("years"), "years")
    known_years: list[int] = []
    holidays: list[date] = []
    makeup: list[date] = []
    for year_text, raw in years.items():
        where = f"year {year_text}"
        if not year_text.isdigit():
            raise reader.fail(where, "year keys must be digits")
        year = int(year_text)
        data = reader.obj(raw, where)
        if data.get("status") not in _STATUSES:
            raise reader.fail(where, f"'status' must be one of {', '.join(_STATUSES)}")
        for n, span in enumerate(reader.array(data, "holidays", where)):
            span_where = f"{where} holidays[{n}]"
            if not isinstance(span, list) or len(span) != 3:
                raise reader.fail(span_where, "expected [first day, last day, name]")
            first = reader.parse_day(span[0], span_where)
            last = reader.parse_day(span[1], span_where)
            if last < first or first.year != year or last.year != year:
                raise reader.fail(span_where, f"span {first}..{last} is not inside {year}")
            holidays.extend(first + timedelta(days=d) for d in range((last - first).days + 1))
        for n, text in enumerate(reader.texts(data, "makeup_workdays", where)):
            day = reader.parse_day(text, f"{where} makeup_workdays[{n}]")
            if day.year != year or day.weekday() < _SATURDAY:
                raise reader.fail(where, f"make-up workday {day} must be a weekend day of {year}")
            makeup.append(day)
        known_years.append(year)
    return WorkingCalendar(known_years, holidays, makeup)


@functools.cache
def shipped_calendar() -> WorkingCalendar:
    """The calendar from the packaged holiday file, loaded once per process."""
    return load_calendar()
