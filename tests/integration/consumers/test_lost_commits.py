"""A consumer that outlives a crash of its PostgreSQL server reads every stored position again:
a batch committed without waiting for its WAL flush may be gone with the server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from casesync.adapters.partitioning import murmur2

from .conftest import RUDONG, TONGXIANG, World, housing_cases

pytestmark = pytest.mark.integration

PARTITIONS = 6  # World's inboxes


def _partition(case_id: str) -> int:
    return (murmur2(case_id.encode()) & 0x7FFFFFFF) % PARTITIONS


def _wait(done: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"not within {seconds:.0f} s: {what}"
        time.sleep(0.2)


def test_commits_lost_with_the_server_are_applied_again_by_the_running_consumer(
    world: World,
) -> None:
    """The running consumer's database loses the batches of all partitions but one (what an
    unflushed commit leaves after a crash) and its connections; once one new event arrives on
    the partition that kept its batches, the consumer applies the lost events again, each
    once, although no new record arrives for their partitions."""
    rudong, tongxiang = world.region(RUDONG), world.region(TONGXIANG)
    rudong.record(housing_cases(0, 60))
    world.relay(RUDONG)
    consumer = world.consumer(TONGXIANG)
    stop = threading.Event()
    runner = threading.Thread(target=consumer.run, args=(stop,))
    runner.start()
    try:
        _wait(lambda: tongxiang.mirror_digest(RUDONG) == rudong.owned_digest(), 60,
              "the first events mirrored")  # fmt: skip
        late = housing_cases(1000, 1, steps=1)
        kept = _partition(late[0].case_id)
        # The crash, as the consumer sees it: every other partition back where it began, its
        # mirror rows gone with it, and the consumer's connections cut.
        tongxiang.query(
            "WITH lost AS (DELETE FROM mirror_history WHERE partition <> %s RETURNING case_id)"
            " DELETE FROM mirror_cases WHERE case_id IN (SELECT case_id FROM lost)",
            (kept,),
        )
        tongxiang.query(
            "UPDATE consumer_positions SET next_offset = 0 WHERE partition <> %s", (kept,)
        )
        tongxiang.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        rudong.record(late)
        world.relay(RUDONG)
        _wait(lambda: tongxiang.mirror_digest(RUDONG) == rudong.owned_digest(), 60,
              "the lost events applied again")  # fmt: skip
    finally:
        stop.set()
        runner.join()
    assert tongxiang.query("SELECT count(*), count(DISTINCT event_id) FROM mirror_history") == [
        (301, 301)
    ]
    assert consumer.stats.retries >= 1
