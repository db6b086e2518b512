"""The rules ``casesync_api.record_change`` enforces, as rows of the ``casesync_rules`` tables.

Pure: every row comes from the shipped catalogue, working calendar and lifecycle, the same objects
the Python recorder asks, so a change recorded through SQL obeys the one source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from casesync.domain.catalogue import Catalogue
from casesync.domain.items import MaterialSpec
from casesync.domain.lifecycle import TRANSITIONS
from casesync.domain.workdays import WorkingCalendar

# Years past the last published holiday schedule that the SQL calendar still covers, counting
# Monday to Friday as the Python calendar does provisionally; later dates are refused (CS009).
PROVISIONAL_YEARS = 5

Row = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class RuleRows:
    """The rows of each ``casesync_rules`` table, by table name."""

    tables: dict[str, tuple[Row, ...]]


# Each table's columns, in the order the rows carry them (migration 005).
COLUMNS: dict[str, tuple[str, ...]] = {
    "own_region": ("code",),
    "regions": ("code",),
    "items": ("code", "time_limit_days", "handling_modes", "applicant_fields"),
    "local_codes": ("region", "local_code", "item_code"),
    "materials": ("item_code", "region", "position", "code", "name"),
    "agreements": ("id", "national", "members", "items", "effective_from", "effective_until"),
    "transitions": ("handling_mode", "from_state", "event_type", "to_state"),
    "working_days": ("day", "ordinal"),
}


def rule_rows(region: str, catalogue: Catalogue, calendar: WorkingCalendar) -> RuleRows:
    """Every rule row for ``region``'s database (raises UnknownRegion for an unknown code)."""
    catalogue.region(region)
    regions = sorted(catalogue.regions)
    items = sorted(catalogue.items.values(), key=lambda item: item.code)
    tables: dict[str, tuple[Row, ...]] = {
        "own_region": ((region,),),
        "regions": tuple((code,) for code in regions),
        "items": tuple(
            (
                item.code,
                item.time_limit_days,
                sorted(item.handling_modes),
                sorted(item.applicant_fields),
            )
            for item in items
        ),
        "local_codes": tuple(
            (code, local, item.code)
            for item in items
            for code in regions
            if (local := catalogue.local_code(item.code, code)) is not None
        ),
        "materials": tuple(
            (item.code, code, position, spec.code, spec.name)
            for item in items
            for code in regions
            for position, spec in enumerate(_materials(catalogue, item.code, code))
        ),
        "agreements": tuple(
            (
                a.id,
                a.national,
                sorted(a.members),
                sorted(a.items),
                a.effective_from,
                a.effective_until,
            )
            for a in sorted(catalogue.agreements.values(), key=lambda a: a.id)
        ),
        "transitions": tuple(
            (mode.value, None if source is None else source.value, event.value, target.value)
            for mode, table in TRANSITIONS.items()
            for (source, event), target in table.items()
        ),
        "working_days": _working_days(calendar),
    }
    return RuleRows(tables)


def _materials(catalogue: Catalogue, item: str, region: str) -> tuple[MaterialSpec, ...]:
    try:
        return catalogue.materials_for(item, region)
    except KeyError:  # the region lists no materials for the item
        return ()


def _working_days(calendar: WorkingCalendar) -> tuple[Row, ...]:
    """Working days from the first known year to PROVISIONAL_YEARS past the last, numbered."""
    if not calendar.years:
        return ()
    day = date(min(calendar.years), 1, 1)
    end = date(max(calendar.years) + PROVISIONAL_YEARS, 12, 31)
    rows: list[Row] = []
    while day <= end:
        if calendar.is_working_day(day):
            rows.append((day, len(rows) + 1))
        day += timedelta(days=1)
    return tuple(rows)
