"""Outage drill: a broker dead or frozen for as long as you say, under a running relay and consumer.

Rudong's relay and Tongxiang's consumer run as their own processes (``casesync relay``,
``casesync consume``). A first wave of cases goes through; the broker is SIGKILLed (``--fault
kill``) or SIGSTOPped (``--fault freeze``); a second wave is committed while it is away; ``ops
status`` is asked during the outage; the broker comes back after ``--outage`` seconds. Then it
measures how long the same processes take to publish everything and to make the partner's mirror
equal to the source's cases, and prints what the relay logged about the outage.

It stops and starts the local launchers' services: run it on a stack of its own (``make
drill-outage`` sets one up), never on services other work depends on.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from casesync.adapters.postgres import ensure_database, with_database
from casesync.ops.status_check import StatusOptions, check_region
from casesync.settings import Settings
from casesync.testing_regions import RegionFactory, TestRegion
from infra.kafka.launcher import KafkaLauncher
from infra.postgres.launcher import PostgresLauncher

RUDONG, TONGXIANG = "320623", "330483"
OUTAGE_LINES = (
    "relay cannot publish; outbox rows wait",
    "relay still cannot publish",
    "relay publishes again; broker outage over",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fault", choices=["kill", "freeze"], default="kill")
    parser.add_argument("--outage", type=float, default=150.0, metavar="SECONDS")
    parser.add_argument("--cases", type=int, default=1000, help="cases per wave (default 1000)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args()

    kafka, postgres = KafkaLauncher(), PostgresLauncher()
    kafka.start()
    postgres.start()
    settings = Settings.from_env()
    factory = RegionFactory(
        settings.kafka,
        lambda label: _database(postgres.url, label),
        f"drill{uuid.uuid4().hex[:6]}.",
    )
    rudong, tongxiang = factory(RUDONG), factory(TONGXIANG)
    logs = Path(tempfile.mkdtemp(prefix="casesync-drill-"))
    rudong.simulate(args.cases, seed=1, partners=[TONGXIANG])
    relay = rudong.spawn("relay", logs / "relay.log")
    consumer = tongxiang.spawn("consume", logs / "consume.log")
    processes = (relay, consumer)
    result: dict[str, Any] = {"fault": args.fault, "outage_s": args.outage, "logs": str(logs)}
    try:
        _wait(lambda: _mirrored(rudong, tongxiang), 300, processes)
        print(f"first wave mirrored; {args.fault} the broker for {args.outage:.0f} s", flush=True)
        pid = kafka.running_pid()
        assert pid is not None
        if args.fault == "kill":
            kafka.kill()
        else:
            os.kill(pid, signal.SIGSTOP)
        began = time.monotonic()
        result["events_in_outage"] = rudong.simulate(args.cases, seed=2, partners=[TONGXIANG])
        time.sleep(max(0.0, args.outage / 2 - (time.monotonic() - began)))
        result["status_during"] = _status(rudong)
        print(f"ops status during the outage: {result['status_during']}", flush=True)
        time.sleep(max(0.0, args.outage - (time.monotonic() - began)))
        result["unpublished_at_return"] = _unpublished(rudong)
        if args.fault == "kill":
            kafka.start()
        else:
            os.kill(pid, signal.SIGCONT)
        back = time.monotonic()
        print(f"broker back; {result['unpublished_at_return']} rows wait", flush=True)
        _wait(lambda: _unpublished(rudong) == 0, 600, processes)
        result["published_all_after_s"] = round(time.monotonic() - back, 1)
        _wait(lambda: _mirrored(rudong, tongxiang), 600, processes)
        result["mirrored_all_after_s"] = round(time.monotonic() - back, 1)
        result["sent"] = rudong.query("SELECT count(*) FROM outbox")[0][0]
        result["applied"] = tongxiang.query("SELECT count(*) FROM mirror_history")[0][0]
        result["dead_letters"] = tongxiang.query("SELECT count(*) FROM dead_letters")[0][0]
        result["processes_still_running"] = all(p.poll() is None for p in processes)
        time.sleep(6)  # the relay's backlog gauge and health are current again
        result["status_after"] = _status(rudong)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
    result["relay_log"] = _outage_lines(logs / "relay.log")
    _report(result)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


def _database(server_url: str, label: str) -> str:
    url = with_database(server_url, f"drill_{label}_{uuid.uuid4().hex[:8]}")
    ensure_database(url)
    return url


def _wait(done: Callable[[], bool], timeout: float, processes: tuple[Any, ...]) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        for process in processes:
            if process.poll() is not None:
                raise SystemExit(f"a region process exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise SystemExit(f"not done within {timeout:.0f} s")
        time.sleep(0.5)


def _mirrored(source: TestRegion, partner: TestRegion) -> bool:
    return partner.mirror_digest(source.code) == source.owned_digest()


def _unpublished(region: TestRegion) -> int:
    return int(region.query("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0])


def _status(region: TestRegion) -> str:
    began = time.monotonic()
    report = check_region(region.settings, region.code, StatusOptions(window_s=1.0))
    outbox = report.get("outbox", {})
    took = time.monotonic() - began
    return (
        f"{report['verdict']} (outbox {outbox.get('verdict', '-')}: {outbox.get('reason', '-')};"
        f" errors {report['errors']}; answered in {took:.1f} s)"
    )


def _outage_lines(log: Path) -> list[str]:
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event", "").startswith(OUTAGE_LINES):
            fields = {k: v for k, v in entry.items() if k not in ("event", "level", "timestamp")}
            lines.append(f"{entry['timestamp']} {entry['event']} {fields}")
    return lines


def _report(result: dict[str, Any]) -> None:
    print(f"\nbroker {result['fault']} for {result['outage_s']:.0f} s, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")  # fmt: skip
    for key in ("events_in_outage", "unpublished_at_return", "published_all_after_s",
                "mirrored_all_after_s", "sent", "applied", "dead_letters",
                "processes_still_running", "status_during", "status_after"):  # fmt: skip
        print(f"  {key}: {result.get(key)}")
    print("  relay log:")
    for line in result["relay_log"]:
        print(f"    {line}")


if __name__ == "__main__":
    sys.exit(main())
