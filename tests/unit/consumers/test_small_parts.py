"""Batch sizing and COPY escaping."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from casesync.adapters.copying import copy_field
from consumers.batching import BatchSizer


def test_full_fast_batches_grow_and_slow_ones_shrink() -> None:
    """The size doubles after a full, fast batch and shrinks in proportion to a slow one."""
    sizer = BatchSizer(initial=1000, minimum=10, maximum=4000, target_seconds=0.5)
    sizer.observe(1000, 0.1)
    assert sizer.size == 2000
    sizer.observe(500, 0.1)  # not full: no reason to grow
    assert sizer.size == 2000
    sizer.observe(2000, 1.0)
    assert sizer.size == 1000
    for _ in range(5):
        sizer.observe(sizer.size, 0.01)
    assert sizer.size == 4000


def test_failures_halve_down_to_the_minimum() -> None:
    """Each failed batch halves the size, never below the minimum."""
    sizer = BatchSizer(initial=100, minimum=40, maximum=100)
    sizer.failed()
    sizer.failed()
    assert sizer.size == 40


def test_sizer_refuses_inconsistent_bounds() -> None:
    """Bounds out of order are a programming error."""
    with pytest.raises(ValueError, match="minimum"):
        BatchSizer(initial=5, minimum=10, maximum=100)


def test_copy_fields_escape_what_ends_fields_and_rows() -> None:
    """Backslash, tab, newline and carriage return are escaped; None is NULL."""
    assert copy_field('{"a":"b\\\\n"}\t\n\r') == '{"a":"b\\\\\\\\n"}\\t\\n\\r'
    assert copy_field(None) == "\\N"
    assert copy_field(7) == "7"
    assert copy_field(date(2026, 3, 2)) == "2026-03-02"
    assert copy_field(datetime(2026, 3, 2, 1, tzinfo=UTC)) == "2026-03-02T01:00:00+00:00"
