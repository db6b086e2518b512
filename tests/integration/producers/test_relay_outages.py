"""The relay rides out a stopped broker and a restarted database by itself, losing nothing."""

from __future__ import annotations

import threading
import time

import pytest

from casesync.adapters.postgres import retrying
from infra.kafka.launcher import KafkaLauncher
from infra.postgres.launcher import PostgresLauncher

from .conftest import SourceRegion, new_case, next_change
from .test_relay import _first_occurrences_in_order

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_relay_recovers_from_broker_stop_and_postgres_restart(
    source_region: SourceRegion,
) -> None:
    """Broker down 30 s, then PostgreSQL restarted, while writes go on: all events arrive."""
    if source_region.services.provider != "local":
        pytest.fail("this test stops and starts the services: run it with the local launchers")
    recorded = [0]
    stop_writing = threading.Event()

    def keep_recording() -> None:
        wave = 0
        while not stop_writing.is_set():
            changes = [new_case(f"O{wave}-{n}") for n in range(20)]
            changes += [next_change(f"O{wave}-{n}", s) for s in range(1, 5) for n in range(20)]
            retrying(lambda c=changes: source_region.record(c), what="test writes")
            recorded[0] += len(changes)
            wave += 1
            time.sleep(0.3)

    relay = source_region.relay_process()
    writer = threading.Thread(target=keep_recording)
    writer.start()
    try:
        time.sleep(2)
        kafka = KafkaLauncher()
        kafka.stop()
        time.sleep(30)
        kafka.start()
        time.sleep(3)
        postgres = PostgresLauncher()
        postgres.stop("immediate")  # a crash, not a polite shutdown
        time.sleep(2)
        postgres.start()
        time.sleep(5)
    finally:
        stop_writing.set()
        writer.join(timeout=120)
    try:
        deadline = time.monotonic() + 120
        while source_region.scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
            assert time.monotonic() < deadline, "relay did not drain the outbox after the outages"
            assert relay.poll() is None, "relay exited instead of recovering"
            time.sleep(0.5)
    finally:
        relay.terminate()
        relay.wait(timeout=60)
    versions, _ = _first_occurrences_in_order(source_region)
    assert sum(len(v) for v in versions.values()) == recorded[0]
    assert all(v == [1, 2, 3, 4, 5] for v in versions.values())
