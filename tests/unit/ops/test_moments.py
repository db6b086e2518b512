"""Times on the ops command line: ISO 8601 in China time by default, or an age."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from casesync.adapters.topics import TopicNames
from casesync.ops.errors import BadRange
from casesync.ops.moments import parse_moment
from casesync.ops.replay import Range, inbox_region_of

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_a_time_without_offset_is_china_time() -> None:
    """``2026-03-02T09:00`` means 09:00 in China, 01:00 UTC."""
    assert parse_moment("2026-03-02T09:00") == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def test_a_time_with_an_offset_keeps_it() -> None:
    """An explicit offset or Z is honoured."""
    assert parse_moment("2026-03-02T01:00Z") == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "hours"), [("30m", 0.5), ("2h", 2), ("1d", 24), ("90s", 0.025)])
def test_an_age_counts_back_from_now(text: str, hours: float) -> None:
    """``30m``, ``2h``, ``1d``, ``90s`` are that long before now."""
    assert (NOW - parse_moment(text, NOW)).total_seconds() == hours * 3600


def test_nonsense_is_a_value_error() -> None:
    """Text that is neither a time nor an age raises ValueError."""
    with pytest.raises(ValueError, match="Invalid isoformat"):
        parse_moment("yesterday")


def test_a_range_of_offsets_and_times_at_once_is_refused() -> None:
    """Export ranges are by offsets or by times, never both."""
    with pytest.raises(BadRange):
        Range(from_offset=3, since=NOW)


def test_the_inbox_region_comes_from_the_topic_under_any_prefix() -> None:
    """An inbox topic names its region whatever prefix it was recorded under; others none."""
    assert inbox_region_of(TopicNames().inbox("320623")) == "320623"
    assert inbox_region_of("t.abc.inbox.330483") == "330483"
    assert inbox_region_of("casesync.schemas") is None
    assert inbox_region_of("casesync.events.320623") is None
