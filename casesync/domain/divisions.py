"""The GB/T 2260 administrative divisions of China, as shipped in ``data/gbt2260.csv``.

The level follows from the code itself: ``xx0000`` is province-level (省、自治区、直辖市、
特别行政区), ``xxyy00`` prefecture-level (地级市、地区、自治州、盟, and the 省直辖县级行政区划
placeholders), anything else county-level (县、县级市、市辖区、旗…). Each can be a region.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources

from casesync.domain.errors import CatalogueError

PROVINCE, PREFECTURE, COUNTY = "province", "prefecture", "county"
# Taiwan, Hong Kong and Macau have codes but run no casesync region of the mainland's systems.
OUTSIDE_THE_MAINLAND = ("71", "81", "82")


@dataclass(frozen=True, slots=True)
class Division:
    """One administrative division: its 6-digit code, name, level and (when known) position."""

    code: str
    name: str
    level: str
    longitude: float | None
    latitude: float | None

    @property
    def province(self) -> str:
        return self.code[:2]

    @property
    def prefecture(self) -> str:
        """The code of the prefecture-level division it belongs to (itself when prefecture)."""
        return self.code[:4] + "00"


def level_of(code: str) -> str:
    """Province-, prefecture- or county-level, from a 6-digit GB/T 2260 code."""
    if len(code) != 6 or not code.isdigit():
        raise CatalogueError("gbt2260.csv", f"code {code!r} must be 6 digits")
    if code.endswith("0000"):
        return PROVINCE
    return PREFECTURE if code.endswith("00") else COUNTY


@functools.cache
def divisions() -> tuple[Division, ...]:
    """Every division of the shipped list, sorted by code."""
    text = resources.files("casesync.domain").joinpath("data/gbt2260.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    found = {}
    for row in rows:
        code = row["adcode"][:6]
        found[code] = Division(
            code, row["name"], level_of(code), _coordinate(row["longitude"]),
            _coordinate(row["latitude"]),
        )  # fmt: skip
    return tuple(found[code] for code in sorted(found))


def mainland_regions() -> tuple[Division, ...]:
    """The prefecture- and county-level divisions of the mainland: every would-be region."""
    return tuple(
        d for d in divisions() if d.level != PROVINCE and d.province not in OUTSIDE_THE_MAINLAND
    )


def _coordinate(raw: str) -> float | None:
    return float(raw) if raw.strip() else None
