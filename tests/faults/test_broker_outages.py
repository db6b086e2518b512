"""A running relay and a running consumer ride out broker outages longer than the producer's
delivery timeout, dead (SIGKILL) or frozen (SIGSTOP), and deliver everything afterwards, by
themselves: the test never restarts them.

The relay runs with a 15 s delivery timeout and the broker stays away 45 s, so the idempotent
producer's batches expire during the outage: the case that wedged kafka-python 3.0.12's
producer for good before the relay learned to discard and rebuild it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from casesync.testing_regions import RegionFactory, TestRegion
from infra.kafka.launcher import KafkaLauncher
from infra.postgres.launcher import PostgresLauncher

from .conftest import stop_processes

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RUDONG, TONGXIANG = "320623", "330483"
DELIVERY_TIMEOUT_S = 15
OUTAGE_S = 45


def wait_until(done: Callable[[], bool], timeout: float, what: str,
               processes: tuple[subprocess.Popen[bytes], ...] = ()) -> None:  # fmt: skip
    deadline = time.monotonic() + timeout
    while not done():
        for process in processes:
            assert process.poll() is None, f"a region process exited ({process.returncode})"
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(1.0)


def unpublished(region: TestRegion) -> int:
    return int(region.query("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0])


def log_events(path: Path) -> list[str]:
    """The ``event`` of every JSON line of a process's log."""
    events = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            events.append(json.loads(line)["event"])
        except (ValueError, KeyError, TypeError):
            events.append(line)  # kafka-python or a traceback: kept, so a test can see it
    return events


@pytest.fixture
def running_pair(region_factory: RegionFactory, tmp_path: Path) -> Iterator[
    tuple[TestRegion, TestRegion, Path, list[subprocess.Popen[bytes]]]
]:  # fmt: skip
    """Rudong's relay and Tongxiang's consumer as processes, after a first wave went through."""
    rudong, tongxiang = region_factory(RUDONG), region_factory(TONGXIANG)
    rudong.simulate(200, seed=1, partners=[TONGXIANG])
    timeout = {"CASESYNC_KAFKA_DELIVERY_TIMEOUT_S": str(DELIVERY_TIMEOUT_S)}
    processes = [
        rudong.spawn("relay", tmp_path / "relay.log", **timeout),
        tongxiang.spawn("consume", tmp_path / "consume.log"),
    ]
    try:
        wait_until(lambda: tongxiang.mirror_digest(RUDONG) == rudong.owned_digest(), 120,
                   "the first wave mirrored", tuple(processes))  # fmt: skip
        yield rudong, tongxiang, tmp_path, processes
    finally:
        stop_processes(processes)


def _assert_everything_arrived_once(
    rudong: TestRegion, tongxiang: TestRegion, processes: tuple[subprocess.Popen[bytes], ...]
) -> None:
    wait_until(lambda: unpublished(rudong) == 0, 180, "the outbox drained after the outage",
               processes)  # fmt: skip
    wait_until(lambda: tongxiang.mirror_digest(RUDONG) == rudong.owned_digest(), 120,
               "the partner's mirror equal to the source's cases", processes)  # fmt: skip
    sent = rudong.query("SELECT count(*) FROM outbox")[0][0]
    applied = tongxiang.query("SELECT count(*) FROM mirror_history")[0][0]
    assert applied == sent, "every event applied exactly once"
    assert tongxiang.query("SELECT count(*) FROM dead_letters")[0][0] == 0
    for process in processes:
        assert process.poll() is None, "the relay and the consumer still run: never restarted"


def test_a_broker_dead_longer_than_the_delivery_timeout_with_a_database_restart_inside(
    running_pair: tuple[TestRegion, TestRegion, Path, list[subprocess.Popen[bytes]]],
) -> None:
    """Broker SIGKILLed for 45 s (delivery timeout 15 s) while changes are committed, the
    source's PostgreSQL crashed and restarted inside the outage: the same relay and consumer
    deliver every event once, and the relay's log says when the outage began and ended."""
    rudong, tongxiang, logs, processes = running_pair
    kafka, postgres = KafkaLauncher(), PostgresLauncher()
    kafka.kill()
    began = time.monotonic()
    rudong.simulate(200, seed=2, partners=[TONGXIANG])  # committed while the broker is away
    postgres.stop("immediate")
    postgres.start()
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - began)))
    assert unpublished(rudong) > 0, "the rows committed in the outage wait in the outbox"
    kafka.start()
    _assert_everything_arrived_once(rudong, tongxiang, tuple(processes))
    events = log_events(logs / "relay.log")
    assert "relay cannot publish; outbox rows wait" in events
    assert "relay publishes again; broker outage over" in events


def test_a_broker_frozen_longer_than_the_delivery_timeout(
    running_pair: tuple[TestRegion, TestRegion, Path, list[subprocess.Popen[bytes]]],
) -> None:
    """Broker SIGSTOPped for 45 s (timeouts, no refused connections) while changes are
    committed, then SIGCONT: the same relay and consumer deliver every event once."""
    rudong, tongxiang, logs, processes = running_pair
    pid = KafkaLauncher().running_pid()
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        rudong.simulate(200, seed=3, partners=[TONGXIANG])
        time.sleep(OUTAGE_S)
        assert unpublished(rudong) > 0, "the rows committed in the outage wait in the outbox"
    finally:
        os.kill(pid, signal.SIGCONT)
    _assert_everything_arrived_once(rudong, tongxiang, tuple(processes))
    events = log_events(logs / "relay.log")
    assert "relay cannot publish; outbox rows wait" in events
    assert "relay publishes again; broker outage over" in events
