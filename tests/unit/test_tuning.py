"""A tuned process does not walk a batch's short-lived objects with the cycle collector."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from casesync.tuning import tune_for_throughput

# About what a consumer holds for one large batch: records, their header tuples, events, rows.
BATCH_OBJECTS = 120_000


@pytest.fixture
def tuned() -> Iterator[list[int]]:
    """The process tuned as casesync's composition roots tune it; yields the generations of
    the collections that ran meanwhile, and restores the test process's collector after."""
    thresholds = gc.get_threshold()
    ran: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            ran.append(info["generation"])

    gc.collect()  # what earlier tests left is not this test's
    tune_for_throughput()
    gc.callbacks.append(count)
    try:
        yield ran
    finally:
        gc.callbacks.remove(count)
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_batches_freed_by_reference_counting_trigger_no_collection(tuned: list[int]) -> None:
    """Twenty batches of 120,000 tracked objects, each dropped before the next is built (as the
    consumer drops an applied batch), run no collection at all."""
    for n in range(20):
        batch = [(str(i), [n]) for i in range(BATCH_OBJECTS // 2)]
        del batch
    assert tuned == []


def test_cycles_that_pile_up_are_still_collected(tuned: list[int]) -> None:
    """Garbage only a collection can free (reference cycles) still gets collected once enough
    of it piles up: memory stays bounded."""
    for _ in range(250_000):
        node: list[Any] = []
        node.append(node)
    assert 0 in tuned
