"""Several consumer processes of one region share the partitions without losing or repeating."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from casesync.adapters.postgres import connect, transaction
from consumers import store
from consumers.errors import PositionConflict

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


def test_a_member_whose_position_moved_while_it_waited_for_the_lock_is_fenced_off(
    world: World,
) -> None:
    """Two members believe they own a partition: the one that waits for the position lock
    while the other commits a batch finds the position moved, and applies nothing."""
    url = world.region(TONGXIANG).url
    tp = (world.names.inbox(TONGXIANG), 0)
    setup, owner, stale = connect(url), connect(url), connect(url)
    try:
        with transaction(setup) as cur:
            store.lock_and_read(cur, {tp: None}, [])  # the partition's position row, at 0
        result: list[BaseException | None] = []
        with transaction(owner) as cur:
            store.lock_and_read(cur, {tp: 0}, [])  # the owner holds the lock ...

            def stale_member() -> None:
                try:
                    with transaction(stale) as stale_cur:
                        store.lock_and_read(stale_cur, {tp: 0}, ["c1"])
                    result.append(None)
                except PositionConflict as e:
                    result.append(e)

            waiting = threading.Thread(target=stale_member)
            waiting.start()
            time.sleep(0.5)  # ... while the stale member waits for it
            cur.execute(
                "UPDATE consumer_positions SET next_offset = 50"
                " WHERE topic = %s AND partition = %s",
                tp,
            )
        waiting.join(timeout=30)
    finally:
        for conn in (setup, owner, stale):
            conn.close()
    assert len(result) == 1
    assert isinstance(result[0], PositionConflict)


def _wait_for(condition: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
