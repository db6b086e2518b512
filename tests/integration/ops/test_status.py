"""``casesync ops status`` against the real broker and database: lag, verdicts, exit codes."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from casesync.ops.topic_reader import TopicReader
from casesync.settings import KafkaAccess
from casesync.testing_regions import RegionFactory
from casesync.testing_trust import TestTrust
from consumers.compose import ConsumerOptions, build_consumer, plan_consumer, prepare

from .conftest import RUDONG, TONGXIANG, Cli, housing_cases

pytestmark = pytest.mark.integration


def _ends(kafka: KafkaAccess, topic: str) -> dict[int, int]:
    reader = TopicReader(kafka)
    try:
        return reader.bounds(topic).end
    finally:
        reader.close()


def test_pending_events_show_as_lag_on_their_partitions_then_zero_and_ok(
    region_factory: RegionFactory, cli: Cli
) -> None:
    """With the consumer stopped and N events pending, status reports lag N on exactly the
    partitions holding them (STALL, not ERR: exit 0); once consumed, every lag is 0 and OK."""
    rudong, tongxiang = region_factory(RUDONG), region_factory(TONGXIANG)
    rudong.record(housing_cases(0, 12))
    rudong.relay()
    tongxiang.consume()
    before = _ends(rudong.settings.kafka, tongxiang.inbox)
    rudong.record(housing_cases(100, 9, steps=1))
    assert rudong.relay() == 9
    after = _ends(rudong.settings.kafka, tongxiang.inbox)
    expected = {p: after[p] - before[p] for p in after}

    code, out = cli(tongxiang, "ops", "status", "--region", TONGXIANG, "--json", "--window", "0.5")
    report = json.loads(out)
    lags = {p["partition"]: p for p in report["partitions"] if p["topic"] == tongxiang.inbox}
    assert code == 0
    assert {p: row["lag"] for p, row in lags.items()} == expected
    assert sum(row["lag"] for row in report["partitions"]) == 9
    for row in lags.values():
        assert row["verdict"] == ("STALL" if row["lag"] else "OK")
        assert (row["lag_seconds"] > 0) == (row["lag"] > 0)

    tongxiang.consume()
    code, out = cli(tongxiang, "ops", "status", "--region", TONGXIANG, "--json", "--window", "0.2")
    report = json.loads(out)
    assert code == 0
    assert report["verdict"] == "OK"
    assert all(row["lag"] == 0 and row["verdict"] == "OK" for row in report["partitions"])


def test_outbox_backlog_and_overdue_cases_are_reported(
    region_factory: RegionFactory, cli: Cli
) -> None:
    """Unrelayed outbox rows count as backlog with an age; open cases past their promised
    deadline are listed as overdue (owned at the source, mirrored at the partner)."""
    rudong, tongxiang = region_factory(RUDONG), region_factory(TONGXIANG)
    rudong.record(housing_cases(0, 3, steps=2))  # accepted in March 2026: long overdue
    _, out = cli(rudong, "ops", "status", "--region", RUDONG, "--json", "--window", "0")
    report = json.loads(out)
    assert report["outbox"]["backlog"] == 6
    assert report["outbox"]["oldest_age_seconds"] >= 0
    assert report["overdue"]["owned"] == 3
    assert report["overdue"]["cases"][0]["working_days_overdue"] > 0

    rudong.relay()
    tongxiang.consume()
    _, out = cli(tongxiang, "ops", "status", "--region", TONGXIANG, "--json", "--window", "0")
    assert json.loads(out)["overdue"]["mirror"] == 3


def test_an_unreachable_region_database_is_err_and_exits_non_zero(
    region_factory: RegionFactory, cli: Cli, unique_name: Callable[[str], str]
) -> None:
    """A region whose database cannot be reached is ERR, says why, and the exit code is 1."""
    tongxiang = region_factory(TONGXIANG)
    missing = tongxiang.url.rsplit("/", 1)[0] + "/" + unique_name("absent").replace(".", "_")
    tongxiang.settings = dataclasses.replace(tongxiang.settings, database_url=missing)
    code, out = cli(tongxiang, "ops", "status", "--region", TONGXIANG, "--json", "--window", "0")
    report = json.loads(out)
    assert code == 1
    assert report["verdict"] == "ERR"
    assert "PostgreSQL" in report["errors"][0]


def test_status_reports_recently_applied_events_by_source_with_sync_latency(
    region_factory: RegionFactory, cli: Cli
) -> None:
    """Events just applied from a partner show in ``applied``: their count by source, a rate
    and sync latency percentiles, the figures the console charts."""
    rudong, tongxiang = region_factory(RUDONG), region_factory(TONGXIANG)
    rudong.record(housing_cases(0, 6))
    rudong.relay()
    applied = tongxiang.consume().applied
    code, out = cli(tongxiang, "ops", "status", "--region", TONGXIANG, "--json", "--window", "0.2")
    report = json.loads(out)
    assert code == 0
    (source,) = report["applied"]["by_source"]
    assert source["source"] == RUDONG
    assert source["count"] == applied > 0
    assert report["applied"]["per_second"] == pytest.approx(applied / 60, abs=0.001)
    assert 0 < report["applied"]["latency_p50_s"] <= report["applied"]["latency_p99_s"]
    assert report["workflows"] == []


def test_with_an_expired_manifest_nothing_is_applied_and_status_is_err_saying_why(
    region_factory: RegionFactory,
    cli: Cli,
    casesync_trust: TestTrust,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With only an expired manifest, Tongxiang's consumer applies nothing and dead-letters
    nothing (the records wait), and ``ops status`` is ERR, exit 1, its manifest line saying
    the manifest expired; the text form prints that line too."""
    rudong, tongxiang = region_factory(RUDONG), region_factory(TONGXIANG)
    rudong.record(housing_cases(0, 3, steps=1))
    assert rudong.relay() == 3
    expired = TestTrust(tmp_path, casesync_trust.root, casesync_trust.keys, version=7)
    expired.publish(casesync_trust.entries(), expires_in=-timedelta(hours=1))
    tongxiang.settings = dataclasses.replace(
        tongxiang.settings, trust_manifest_file=expired.manifest_file
    )
    monkeypatch.setenv("CASESYNC_TRUST_MANIFEST", str(expired.manifest_file))

    options = ConsumerOptions(region=TONGXIANG)
    plan = plan_consumer(tongxiang.settings, options)
    prepare(tongxiang.settings, plan)
    consumer = build_consumer(tongxiang.settings, options, plan)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    try:
        stop.wait(8)
    finally:
        stop.set()
        thread.join(30)
    assert consumer.stats.retries > 0  # it had records, and waited
    assert consumer.stats.applied == consumer.stats.dead_lettered == 0
    assert tongxiang.query("SELECT count(*) FROM mirror_cases") == [(0,)]
    assert tongxiang.query("SELECT count(*) FROM dead_letters") == [(0,)]

    code, out = cli(tongxiang, "ops", "status", "--region", TONGXIANG, "--json", "--window", "0")
    report = json.loads(out)
    assert code == 1
    assert report["verdict"] == "ERR"
    assert report["manifest"]["verdict"] == "ERR"
    assert "version 8 expired at" in report["manifest"]["reason"]
    assert sum(row["lag"] for row in report["partitions"]) == 3
    code, out = cli(tongxiang, "ops", "status", "--region", TONGXIANG, "--window", "0")
    assert code == 1
    assert "manifest: ERR: " in out
    assert "expired" in out
