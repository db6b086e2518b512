"""The relay rides out a stopped broker and a restarted database by itself, losing nothing."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from kafka import KafkaProducer

from casesync.adapters.kafka_clients import new_producer
from casesync.adapters.postgres import retrying
from casesync.adapters.topics import existing_topics
from casesync.contract.schemas import load_versions
from infra.kafka.launcher import KafkaLauncher
from infra.postgres.launcher import PostgresLauncher
from producers.app import kafka_producer
from producers.outbox_store import OutboxStore
from producers.relay import Relay, RelayConfig
from producers.routing import Inboxes

from .conftest import RUDONG, SourceRegion, new_case, next_change
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
            if relay.poll() is not None:
                assert relay.stderr is not None
                log = relay.stderr.read().decode(errors="replace")[-3000:]
                pytest.fail(f"relay exited ({relay.returncode}) instead of recovering:\n{log}")
            time.sleep(0.5)
    finally:
        relay.terminate()
        relay.wait(timeout=60)
    versions, _ = _first_occurrences_in_order(source_region)
    assert sum(len(v) for v in versions.values()) == recorded[0]
    assert all(v == [1, 2, 3, 4, 5] for v in versions.values())


def test_a_producer_that_cannot_reach_the_broker_is_retried_not_fatal(
    source_region: SourceRegion,
) -> None:
    """The relay's first producer finds no broker (nothing listens on its address): the relay
    counts a broker failure, builds another, and publishes everything."""
    bootstraps = ["127.0.0.1:1"]  # port 1: connection refused
    kafka = source_region.services.kafka

    def producer() -> KafkaProducer:
        if bootstraps:
            nowhere = dataclasses.replace(source_region.services.kafka, bootstrap=bootstraps.pop())
            return new_producer(nowhere, bootstrap_timeout_ms=2000)
        return kafka_producer(source_region.services.kafka)

    changes = [new_case(f"B-{n}") for n in range(10)]
    source_region.record(changes + [next_change(f"B-{n}", 1) for n in range(10)])
    relay = Relay(
        RUDONG, OutboxStore(source_region.url), producer,
        {s.fingerprint: s for s in load_versions()}, lambda schema: None,
        Inboxes(source_region.names, lambda: existing_topics(kafka)),
    )  # fmt: skip
    stats = relay.run(until_idle=2.0)
    assert stats.kafka_failures == 1
    versions, duplicates = _first_occurrences_in_order(source_region)
    assert duplicates == 0
    assert all(v == [1, 2] for v in versions.values())
    assert len(versions) == 10


class _SilentFuture:
    """A send that is never acknowledged and never fails: what a wedged producer hands out."""

    is_done = False

    class _Latch:
        @staticmethod
        def wait(timeout: float) -> bool:
            time.sleep(timeout)
            return False

    _produce_future = _Latch()

    @staticmethod
    def succeeded() -> bool:
        return False

    @staticmethod
    def failed() -> bool:
        return False


class _WedgedProducer:
    """Accepts every record and never answers, as kafka-python 3.0.12's idempotent producer
    does once it has dropped its producer id after an expired batch."""

    closed = False

    def send(self, *args: object, **kwargs: object) -> _SilentFuture:
        return _SilentFuture()

    def close(self, timeout: float | None = None) -> None:
        self.closed = True


def test_a_producer_that_never_answers_is_discarded_and_its_rows_resent(
    source_region: SourceRegion,
) -> None:
    """A producer that neither acknowledges nor fails anything for ``wedged_after_s`` is
    discarded; a new one publishes every row, each case in order."""
    wedged = _WedgedProducer()
    producers: list[object] = [wedged]
    kafka = source_region.services.kafka

    def producer() -> object:
        if producers:
            return producers.pop()
        return kafka_producer(source_region.services.kafka)

    changes = [new_case(f"W-{n}") for n in range(10)]
    source_region.record(changes + [next_change(f"W-{n}", 1) for n in range(10)])
    relay = Relay(
        RUDONG, OutboxStore(source_region.url), producer,
        {s.fingerprint: s for s in load_versions()}, lambda schema: None,
        Inboxes(source_region.names, lambda: existing_topics(kafka)),
        RelayConfig(stall_after_s=0.5, wedged_after_s=2.0, pause_after_failure_s=0.1),
    )  # fmt: skip
    stats = relay.run(until_idle=3.0)
    assert wedged.closed
    assert stats.kafka_failures == 1
    assert source_region.scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
    versions, _ = _first_occurrences_in_order(source_region)
    assert len(versions) == 10
    assert all(v == [1, 2] for v in versions.values())
    health = source_region.scalar("SELECT count(*) FROM relay_health WHERE publishing")
    assert health == 1, "the relay reported publishing again once the new producer delivered"
