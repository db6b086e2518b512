"""The relay publishes every committed event once, in each case's order, whatever it survives."""

from __future__ import annotations

import random
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest

from casesync.adapters.postgres import connect, transaction
from casesync.settings import Settings
from producers.app import build_relay
from producers.outbox_store import OutboxStore
from producers.relay import RelayConfig

from .conftest import RUDONG, SourceRegion, new_case, next_change

pytestmark = pytest.mark.integration


def _settings_for(region: SourceRegion) -> Settings:
    return Settings.from_env(
        {
            **region.services.kafka.environment(),
            **region.trust.environment(),
            "CASESYNC_DATABASE_URL": region.url,
            "CASESYNC_TOPIC_PREFIX": region.names.prefix,
        }
    )


def _record_lifecycles(region: SourceRegion, cases: int, prefix: str = "RD") -> int:
    """Five happy-path changes per case, interleaved, in transactions of 50; returns the count."""
    changes = [
        new_case(f"{prefix}-{n}") if step == 0 else next_change(f"{prefix}-{n}", step)
        for step in range(5)
        for n in range(cases)
    ]
    for start in range(0, len(changes), 50):
        region.record(changes[start : start + 50])
    return len(changes)


def _first_occurrences_in_order(region: SourceRegion) -> tuple[dict[str, list[int]], int]:
    """Per case, the versions in topic order keeping first occurrences; and the duplicate count."""
    seen: set[bytes] = set()
    versions: dict[str, list[int]] = defaultdict(list)
    duplicates = 0
    for _, _, key, value, headers in region.read_topic():
        event_id = headers["event_id"]
        if event_id in seen:
            duplicates += 1
            continue
        seen.add(event_id)
        versions[key.decode()].append(region.recorder._codec.decode(value).case_version)
    return versions, duplicates


def test_relay_publishes_every_row_in_case_order_with_headers(source_region: SourceRegion) -> None:
    """Relayed events carry key and headers, keep each case's order, and leave no row unsent."""
    total = _record_lifecycles(source_region, 40)
    build_relay(_settings_for(source_region), RUDONG).run(until_idle=1.0)
    records = source_region.read_topic()
    assert len(records) == total
    _, _, key, value, headers = records[0]
    event = source_region.recorder._codec.decode(value)
    assert key.decode() == event.case_id
    assert headers["event_id"].decode() == event.event_id
    assert headers["event_type"].decode() == event.event_type.value
    assert headers["source_region"] == RUDONG.encode()
    assert headers["fingerprint"] == value[2:10].hex().encode()
    versions, duplicates = _first_occurrences_in_order(source_region)
    assert duplicates == 0
    assert all(v == [1, 2, 3, 4, 5] for v in versions.values())
    assert source_region.scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


def test_relay_killed_repeatedly_loses_nothing_and_keeps_case_order(
    source_region: SourceRegion,
) -> None:
    """SIGKILL the relay 6 times while changes keep coming: every event arrives, in order."""
    rng = random.Random(20211)
    recorded = [0]
    done = threading.Event()

    def keep_recording() -> None:
        for wave in range(12):
            recorded[0] += _record_lifecycles(source_region, 60, prefix=f"W{wave}")
            time.sleep(0.2)
        done.set()

    writer = threading.Thread(target=keep_recording)
    writer.start()
    kills = 0
    while not done.is_set() or kills < 6:
        relay = source_region.relay_process()
        time.sleep(rng.uniform(0.8, 2.0))
        relay.send_signal(signal.SIGKILL)
        relay.wait()
        kills += 1
    writer.join()
    final = source_region.relay_process("--until-idle", "2")
    assert final.wait(timeout=120) == 0
    versions, duplicates = _first_occurrences_in_order(source_region)
    assert sum(len(v) for v in versions.values()) == recorded[0]
    assert all(v == [1, 2, 3, 4, 5] for v in versions.values())
    # Only batches in flight at a kill may repeat: at most 4 batches of 5000 per kill.
    assert duplicates <= kills * 4 * 5000
    assert source_region.scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


def test_two_relays_at_once_publish_each_event_exactly_once(source_region: SourceRegion) -> None:
    """A second relay of the region stands by: steady-state publishing has no duplicates."""
    relays = [source_region.relay_process(), source_region.relay_process()]
    try:
        total = _record_lifecycles(source_region, 100)
        _wait_until(lambda: source_region.scalar(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0, 60)  # fmt: skip
    finally:
        for relay in relays:
            relay.send_signal(signal.SIGTERM)
            relay.wait(timeout=60)
    versions, duplicates = _first_occurrences_in_order(source_region)
    assert duplicates == 0
    assert sum(len(v) for v in versions.values()) == total


def test_reading_ahead_in_small_batches_sends_a_late_commit_once_and_in_order(
    source_region: SourceRegion,
) -> None:
    """A row committed after later rows were sent (a straggler) goes out once, before its case's
    next versions, while the relay reads ahead in batches of 20."""
    relay = build_relay(_settings_for(source_region), RUDONG, RelayConfig(batch_size=20))
    stop = threading.Event()
    runner = threading.Thread(target=relay.run, args=(stop,))
    late = connect(source_region.url)
    try:
        with transaction(late) as cur:  # holds the lowest outbox id, uncommitted
            source_region.recorder.record_many(cur, [new_case("LATE-1")])
            total = _record_lifecycles(source_region, 40)
            runner.start()
            _wait_until(lambda: relay.stats.published >= total, 60)
        source_region.record([next_change("LATE-1", step) for step in range(1, 5)])
        _wait_until(lambda: source_region.scalar(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0, 60)  # fmt: skip
    finally:
        stop.set()
        runner.join(timeout=60)
        late.close()
    versions, duplicates = _first_occurrences_in_order(source_region)
    assert duplicates == 0
    assert sum(len(v) for v in versions.values()) == total + 5
    assert all(v == [1, 2, 3, 4, 5] for v in versions.values())


def test_an_idle_relay_is_woken_by_the_commit_not_by_its_timer(source_region: SourceRegion) -> None:
    """Waiting up to 60 s between looks, the relay still publishes a new commit at once: the
    outbox trigger's notification wakes it."""
    relay = build_relay(_settings_for(source_region), RUDONG, RelayConfig(idle_wait_s=60.0))
    stop = threading.Event()
    runner = threading.Thread(target=relay.run, args=(stop,))
    runner.start()
    try:
        source_region.record([new_case("WAKE-1")])
        _wait_until(lambda: relay.stats.published == 1, 30)
        time.sleep(0.5)  # the relay is asleep again, on its connection
        source_region.record([next_change("WAKE-1", 1)])
        _wait_until(lambda: relay.stats.published == 2, 30)
    finally:
        stop.set()
        source_region.record([next_change("WAKE-1", 2)])  # wakes it to see the stop
        runner.join(timeout=90)
    assert not runner.is_alive()


def test_rows_marked_published_while_a_read_runs_are_not_sent_again(
    source_region: SourceRegion, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read whose snapshot still shows rows unpublished that are marked published before the
    relay looks at the result: those rows are not taken for stragglers and sent twice."""
    snapshot_taken = threading.Event()
    mark, fetch = OutboxStore.mark_published, OutboxStore.fetch

    def mark_after_a_read(store: OutboxStore, ids: Any) -> None:
        snapshot_taken.clear()
        snapshot_taken.wait(10)  # hold the marking until the next read has taken its snapshot
        mark(store, ids)

    def read_then_let_marking_finish(store: OutboxStore, after: int, limit: int) -> Any:
        result = fetch(store, after, limit)
        snapshot_taken.set()
        # Returned only once the marker has marked and forgotten those rows.
        _wait_until(lambda: not relay._marker or not relay._marker.pending(), 10)
        return result

    monkeypatch.setattr(OutboxStore, "mark_published", mark_after_a_read)
    monkeypatch.setattr(OutboxStore, "fetch", read_then_let_marking_finish)
    relay = build_relay(_settings_for(source_region), RUDONG)
    stop = threading.Event()
    runner = threading.Thread(target=relay.run, args=(stop,))
    runner.start()
    try:
        for n in range(5):
            source_region.record([new_case(f"RACE-{n}-{i}") for i in range(10)])
            _wait_until(lambda n=n: relay.stats.published >= 10 * (n + 1), 30)
    finally:
        stop.set()
        snapshot_taken.set()
        runner.join(timeout=60)
    _, duplicates = _first_occurrences_in_order(source_region)
    assert duplicates == 0


def _wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)
