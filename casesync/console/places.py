"""Where regions lie, for the console's map, from the national code list that ships with casesync
(``casesync/domain/data/gbt2260.csv``, with coordinates): one lookup for a region's seat, and the
seats of every division of the mainland, which the page draws as the map's backdrop."""

from __future__ import annotations

import json
from functools import cache

from casesync.domain.divisions import OUTSIDE_THE_MAINLAND, PROVINCE, Division, divisions

Position = tuple[float, float]


@cache
def _positions() -> dict[str, Position]:
    return {d.code: (d.longitude, d.latitude) for d in divisions()
            if d.longitude is not None and d.latitude is not None}  # fmt: skip


def coordinates(code: str) -> Position | None:
    """(longitude, latitude) of the region's seat. A division the list gives no position (a few
    districts) or does not list (zones with a statistics code only, e.g. 苏州工业园区 320576) is
    drawn at its prefecture's seat, failing that its province's; None for a code of neither."""
    positions = _positions()
    for candidate in (code, code[:4] + "00", code[:2] + "0000"):
        if candidate in positions:
            return positions[candidate]
    return None


@cache
def _mainland_seats() -> tuple[tuple[Division, Position], ...]:
    return tuple((d, _positions()[d.code]) for d in divisions()
                 if d.province not in OUTSIDE_THE_MAINLAND and d.code in _positions())  # fmt: skip


@cache
def backdrop() -> bytes:
    """The map's backdrop as JSON: every mainland division's seat (rounded to 0.05°, about 5 km,
    duplicates dropped) and the provinces' seats with their names. Drawn as dots, these show the
    country's shape without drawing a boundary line, which a published map of China may only do
    from reviewed map data (地图管理条例)."""
    seats = sorted(
        {(round(lon * 20) / 20, round(lat * 20) / 20) for _, (lon, lat) in _mainland_seats()}
    )
    provinces = [{"code": d.code, "name": d.name, "lon": round(lon, 2), "lat": round(lat, 2)}
                 for d, (lon, lat) in _mainland_seats() if d.level == PROVINCE]  # fmt: skip
    return json.dumps({"seats": seats, "provinces": provinces}, ensure_ascii=False,
                      separators=(",", ":")).encode()  # fmt: skip
