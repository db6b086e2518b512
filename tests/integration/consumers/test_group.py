"""Several consumer processes of one region share the partitions without losing or repeating."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from .conftest import RUDONG, TONGXIANG, World, housing_cases

pytestmark = pytest.mark.integration


def test_members_joining_mid_stream_share_partitions_and_apply_each_event_once(
    world: World,
) -> None:
    """A second member joins while the first applies; after the rebalance both apply, and the
    mirror equals the source with each event applied exactly once."""
    rudong, tongxiang = world.region(RUDONG), world.region(TONGXIANG)
    rudong.record(housing_cases(0, 2000))
    world.relay(RUDONG)
    first, second = world.consumer(TONGXIANG, max_batch=200), world.consumer(TONGXIANG)
    stop = threading.Event()
    threads = [threading.Thread(target=first.run, args=(stop, 6.0))]
    threads[0].start()
    try:
        _wait_for(lambda: first.stats.applied > 0)
        threads.append(threading.Thread(target=second.run, args=(stop, 6.0)))
        threads[1].start()
        rudong.record(housing_cases(5000, 1000))  # more arrives during the rebalance
        world.relay(RUDONG)
        _wait_for(lambda: bool(first.assignment) and bool(second.assignment))
        rudong.record(housing_cases(8000, 1000))  # and more once both hold partitions
        world.relay(RUDONG)
        for thread in threads:
            thread.join(timeout=120)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert first.stats.applied > 0
    assert second.stats.applied > 0
    assert first.stats.applied + second.stats.applied == 20_000
    assert tongxiang.mirror_digest(RUDONG) == rudong.owned_digest()
    assert tongxiang.query("SELECT count(*), count(DISTINCT event_id) FROM mirror_history") == [
        (20_000, 20_000)
    ]


def _wait_for(condition: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
