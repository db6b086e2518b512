"""Where each region lies, for the console's map: one lookup, so a national code list with
coordinates can replace the shipped table without touching the console."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def _table() -> dict[str, tuple[float, float]]:
    text = resources.files("casesync.console").joinpath("data/coordinates.json").read_text()
    table = json.loads(text)["regions"]
    return {code: (float(lon), float(lat)) for code, (lon, lat) in table.items()}


def coordinates(code: str) -> tuple[float, float] | None:
    """(longitude, latitude) of the region's seat, None for a region the table does not know."""
    return _table().get(code)
