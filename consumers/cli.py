"""``casesync consume`` and ``casesync digest``, each for one region."""

from __future__ import annotations

import argparse
from typing import Any

from casesync.adapters.postgres import connect, transaction
from casesync.metrics import Metrics, serve
from casesync.settings import Settings
from casesync.stopping import stop_on_signals
from casesync.tuning import tune_for_consuming
from consumers import digest
from consumers.compose import ConsumerOptions, build_consumer, plan_consumer, prepare


def register(commands: Any) -> None:
    consume = commands.add_parser(
        "consume", help="mirror partner regions' case events into this region's database"
    )
    consume.add_argument("--region", required=True, help="GB/T 2260 code of this region")
    consume.add_argument(
        "--until-idle", type=float, default=None, metavar="SECONDS",
        help="stop once no event came for this long (default: run until stopped)",
    )  # fmt: skip
    consume.add_argument(
        "--instance-id", default=None,
        help="static group member id: a restarted process takes its partitions back at once",
    )  # fmt: skip
    consume.add_argument("--max-batch", type=int, default=20_000, help="largest batch, events")
    consume.add_argument("--metrics-port", type=int, help="serve Prometheus /metrics on this port")
    consume.set_defaults(handler=run_consume)

    digest_parser = commands.add_parser(
        "digest", help="print one digest of case state, to compare a source with a partner"
    )
    digest_parser.add_argument("--region", required=True, help="GB/T 2260 code of this region")
    which = digest_parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--owned", action="store_true", help="the region's own cases")
    which.add_argument("--mirror-of", metavar="CODE", help="the region's mirror of a partner")
    digest_parser.set_defaults(handler=run_digest)


def run_consume(args: argparse.Namespace, settings: Settings) -> int:
    options = ConsumerOptions(
        region=args.region,
        instance_id=args.instance_id,
        max_batch=args.max_batch,
    )
    plan = plan_consumer(settings, options)
    prepare(settings, plan)
    metrics = Metrics()
    if args.metrics_port:
        serve(metrics, args.metrics_port)
    tune_for_consuming()
    consumer = build_consumer(settings, options, plan, metrics=metrics)
    stop = stop_on_signals()
    stats = consumer.run(stop, until_idle=args.until_idle)
    print(
        f"region {args.region}: {stats.records} records, {stats.applied} applied, "
        f"{stats.dead_lettered} dead-lettered, {stats.batches} transactions"
    )
    return 0


def run_digest(args: argparse.Namespace, settings: Settings) -> int:
    conn = connect(settings.region_database_url(args.region))
    try:
        with transaction(conn) as cur:
            if args.owned:
                hexdigest, count = digest.owned(cur)
            else:
                hexdigest, count = digest.mirror_of(cur, args.mirror_of)
    finally:
        conn.close()
    print(f"{hexdigest} {count}")
    return 0
