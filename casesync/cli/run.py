"""``casesync run``: a region's service — its relay and its consumer in one process."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import Any

import structlog

from casesync.cli.region import init_region
from casesync.metrics import Metrics, serve
from casesync.settings import Settings
from casesync.stopping import stop_on_signals
from casesync.tuning import tune_for_consuming
from consumers.compose import ConsumerOptions, build_consumer, plan_consumer, prepare
from producers.app import build_relay

log = structlog.get_logger(__name__)


def service_ready(log_file: Path) -> bool:
    """Whether a region service's log file shows it ready for traffic: its relay leads the
    region and its consumer holds its partitions (before that, events wait for the group)."""
    if not log_file.exists():
        return False
    text = log_file.read_text(errors="replace")
    return "relay leads its region" in text and "positions restored" in text


def register(commands: Any) -> None:
    run = commands.add_parser(
        "run", help="a region's service: publish its outbox and mirror its partners' events"
    )
    run.add_argument("--region", required=True, help="GB/T 2260 code of this region")
    run.add_argument("--until-idle", type=float, metavar="SECONDS",
                     help="each part stops once it had no work for this long")  # fmt: skip
    run.add_argument("--metrics-port", type=int, help="serve Prometheus /metrics on this port")
    run.add_argument("--instance-id", help="static consumer-group member id")
    run.set_defaults(handler=run_region)


def run_region(args: argparse.Namespace, settings: Settings) -> int:
    """Steps: set the region up (idempotent), start relay and consumer threads, stop both on
    SIGTERM/SIGINT (or each when idle); the first to fail stops the other."""
    init_region(settings, args.region)
    metrics = Metrics()
    if args.metrics_port:
        serve(metrics, args.metrics_port)
    options = ConsumerOptions(region=args.region, instance_id=args.instance_id)
    plan = plan_consumer(settings, options)
    prepare(settings, plan)
    tune_for_consuming()
    consumer = build_consumer(settings, options, plan, metrics=metrics)
    relay = build_relay(settings, args.region, metrics=metrics)
    stop = stop_on_signals()
    failures: list[BaseException] = []

    def guarded(name: str, work: Any) -> None:
        try:
            work()
        except BaseException as e:  # noqa: BLE001 - reported, then raised by the main thread
            failures.append(e)
            log.error("region service part failed", part=name, region=args.region,
                      error=type(e).__name__)  # fmt: skip
            stop.set()

    threads = [
        threading.Thread(target=guarded, name="relay",
                         args=("relay", lambda: relay.run(stop, args.until_idle))),
        threading.Thread(target=guarded, name="consumer",
                         args=("consumer", lambda: consumer.run(stop, args.until_idle))),
    ]  # fmt: skip
    log.info("region service running", region=args.region, partners=len(plan.partners))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return 0
