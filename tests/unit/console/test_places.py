"""Where the console draws regions, from the national code list."""

from __future__ import annotations

import json

from casesync.console.places import backdrop, coordinates
from casesync.domain.divisions import divisions


def test_a_listed_division_is_drawn_at_its_own_seat() -> None:
    """桐乡市 330483 is where the national list puts it."""
    assert coordinates("330483") == (120.565098, 30.630173)


def test_a_division_without_a_position_or_listing_is_drawn_at_its_prefectures_seat() -> None:
    """崇川区 has no position in the list and 苏州工业园区 320576 is not listed: both fall back to
    their prefecture (南通市, 苏州市); a code of no known prefecture or province has none."""
    assert coordinates("320613") == coordinates("320600")
    assert coordinates("320576") == coordinates("320500")
    assert coordinates("999999") is None


def test_the_backdrop_covers_the_mainland_and_names_its_provinces() -> None:
    """Thousands of seats, all within the mainland's box; 31 province-level names, none of
    Taiwan, Hong Kong or Macau."""
    view = json.loads(backdrop())
    assert len(view["seats"]) > 2000
    assert all(73 < lon < 136 and 3 < lat < 54 for lon, lat in view["seats"])
    names = {p["name"] for p in view["provinces"]}
    assert len(names) == 31
    assert "宁夏回族自治区" in names
    assert not names & {d.name for d in divisions() if d.code in ("710000", "810000", "820000")}
