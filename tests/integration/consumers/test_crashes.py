"""Whatever crashes, each event is applied once and the partner ends with the source's state."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

from infra.postgres.launcher import PostgresLauncher

from .conftest import RUDONG, TONGXIANG, World, housing_cases

pytestmark = pytest.mark.integration


def _consume_process(world: World, until_idle: float) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        **world.services.kafka.environment(),
        CASESYNC_DATABASE_URL=world.region(TONGXIANG).url,
        CASESYNC_TOPIC_PREFIX=world.names.prefix,
    )
    command = [
        sys.executable, "-m", "casesync", "--log-level", "WARNING", "consume",
        "--region", TONGXIANG, "--until-idle", str(until_idle),
        "--instance-id", "crash-test", "--max-batch", "500",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _applied(world: World) -> int:
    rows = world.region(TONGXIANG).query("SELECT count(*) FROM mirror_history")
    return int(rows[0][0])


@pytest.mark.slow
def test_sigkill_at_random_points_neither_loses_nor_repeats(world: World) -> None:
    """A consumer process SIGKILLed ten times while a 20k-event stream arrives still ends with
    the source's digest, every event applied exactly once and nothing dead-lettered."""
    rudong, tongxiang = world.region(RUDONG), world.region(TONGXIANG)
    rudong.record(housing_cases(0, 4000))
    rng = random.Random(5)
    progress = []
    for _ in range(10):  # the stream arrives in ten parts, each consumed by a process killed
        world.relay(RUDONG, limit=2000)
        process = _consume_process(world, until_idle=30)
        deadline = time.monotonic() + 20
        before = _applied(world)
        # Kill at a random point once the process applies (or a little after it started).
        while _applied(world) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.15))
        process.send_signal(signal.SIGKILL)
        process.wait()
        progress.append(_applied(world))
    final = _consume_process(world, until_idle=3)
    _, err = final.communicate(timeout=120)
    assert final.returncode == 0, err.decode()[-2000:]

    print("applied when killed:", progress)
    assert len([n for n in progress if 0 < n < 20_000]) >= 9, progress  # kills hit mid-stream
    assert tongxiang.mirror_digest(RUDONG) == rudong.owned_digest()
    assert tongxiang.query("SELECT count(*), count(DISTINCT event_id) FROM mirror_history") == [
        (20_000, 20_000)
    ]
    assert tongxiang.query("SELECT count(*) FROM dead_letters") == [(0,)]
    assert tongxiang.query("SELECT sum(next_offset), sum(applied) FROM consumer_positions") == [
        (20_000, 20_000)
    ]


@pytest.mark.slow
def test_postgres_restart_mid_batch_loses_nothing_and_dead_letters_nothing(world: World) -> None:
    """The server restarting (immediate stop) under a running consumer is retried, not
    dead-lettered: afterwards the mirror equals the source and each event applied once."""
    launcher = PostgresLauncher()
    if launcher.running_pid() is None:
        pytest.fail("this test restarts the local PostgreSQL of `make up`, which is not running")
    rudong, tongxiang = world.region(RUDONG), world.region(TONGXIANG)
    rudong.record(housing_cases(0, 3000))
    world.relay(RUDONG)
    consumer = world.consumer(TONGXIANG, max_batch=500)
    stop = threading.Event()
    runner = threading.Thread(target=consumer.run, args=(stop, 4.0))
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while _applied(world) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        launcher.stop("immediate")
        time.sleep(1.0)
        launcher.start()
        runner.join(timeout=120)
    finally:
        stop.set()
        runner.join()
    assert consumer.stats.retries >= 1
    assert tongxiang.mirror_digest(RUDONG) == rudong.owned_digest()
    assert tongxiang.query("SELECT count(*), count(DISTINCT event_id) FROM mirror_history") == [
        (15_000, 15_000)
    ]
    assert tongxiang.query("SELECT count(*) FROM dead_letters") == [(0,)]
