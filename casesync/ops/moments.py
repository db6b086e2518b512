"""Times on the command line: ISO 8601 (China time when no offset is given) or "30m ago"."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta

from casesync.domain.workdays import CHINA_TZ

_RELATIVE = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_moment(text: str, now: datetime | None = None) -> datetime:
    """An aware instant: ``2026-03-02T09:00``, ``2026-03-02T01:00Z``, or ``15m``/``2h``/``1d``
    (that long before ``now``). ValueError when it is neither."""
    text = text.strip()
    match = _RELATIVE.match(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: amount})
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA_TZ)


def moment_argument(text: str) -> datetime:
    """``parse_moment`` for argparse: a clear message instead of a traceback."""
    try:
        return parse_moment(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: use ISO 8601 (2026-03-02T09:00, China time unless an "
            "offset is given) or an age such as 30m, 2h, 1d"
        ) from None
