"""The shipped GB/T 2260 list: 3,429 codes, each level read from its code, 3,189 mainland
prefecture- and county-level regions."""

from __future__ import annotations

from collections import Counter

import pytest

from casesync.domain.divisions import (
    COUNTY,
    PREFECTURE,
    PROVINCE,
    divisions,
    level_of,
    mainland_regions,
)
from casesync.domain.errors import CatalogueError


def test_levels_follow_the_code() -> None:
    """xx0000 is province-level, xxyy00 prefecture-level, the rest county-level."""
    assert [level_of(c) for c in ("320000", "320600", "320623")] == [PROVINCE, PREFECTURE, COUNTY]
    with pytest.raises(CatalogueError):
        level_of("32062")


def test_the_shipped_list_counts_every_level() -> None:
    """35 province-, 346 prefecture- and 3,048 county-level codes; 如东县 among them."""
    counts = Counter(d.level for d in divisions())
    assert counts == {PROVINCE: 35, PREFECTURE: 346, COUNTY: 3048}
    rudong = next(d for d in divisions() if d.code == "320623")
    assert rudong.name == "如东县"
    assert rudong.prefecture == "320600"


def test_mainland_regions_leave_out_provinces_and_taiwan_hong_kong_macau() -> None:
    """3,189 would-be regions, none province-level, none coded 71, 81 or 82."""
    regions = mainland_regions()
    assert len(regions) == 3189
    assert not {d.level for d in regions} - {PREFECTURE, COUNTY}
    assert not [d for d in regions if d.province in ("71", "81", "82")]
