"""Producer-side commands: ``emit``, ``relay``, ``simulate``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

import structlog

from casesync.adapters.postgres import connect, transaction
from casesync.adapters.topics import TopicNames
from casesync.domain.events import Applicant
from casesync.domain.loading import shipped_catalogue
from casesync.domain.vocabulary import ApplicantKind, EventType, HandlingMode
from casesync.errors import ConfigError
from casesync.metrics import Metrics, serve
from casesync.settings import Settings
from casesync.stopping import stop_on_signals
from producers.app import build_recorder, build_relay, record_in_batches
from producers.changes import CaseChange
from producers.simulation import Simulation

log = structlog.get_logger(__name__)


def register(commands: Any) -> None:
    emit = commands.add_parser("emit", help="record one case change (outbox; the relay sends it)")
    emit.add_argument("--region", required=True)
    emit.add_argument("--case", required=True, dest="case_id")
    emit.add_argument("--event", required=True, choices=[e.value for e in EventType])
    emit.add_argument("--expected-version", type=int, help="default: the case's current one")
    emit.add_argument(
        "--item", help="item code, national or the region's own local one (new cases)"
    )
    emit.add_argument("--mode", choices=[m.value for m in HandlingMode], help="(new cases)")
    emit.add_argument("--applicant-name", help="(new cases)")
    emit.add_argument("--company", action="store_true", help="the applicant is a company")
    emit.add_argument("--id-number", help="only for items that need it")
    emit.add_argument("--credit-code", help="for companies")
    emit.add_argument("--target", action="append", help="partner region (repeatable)")
    emit.set_defaults(handler=run_emit)

    relay = commands.add_parser("relay", help="publish the region's outbox to Kafka")
    relay.add_argument("--region", required=True)
    relay.add_argument("--until-idle", type=float, metavar="SECONDS",
                       help="drain, then exit after this long with nothing to publish")  # fmt: skip
    relay.add_argument("--metrics-port", type=int, help="serve Prometheus /metrics on this port")
    relay.set_defaults(handler=run_relay)

    simulate = commands.add_parser("simulate", help="record realistic case lifecycles")
    simulate.add_argument("--region", required=True)
    simulate.add_argument("--cases", type=int, default=100)
    simulate.add_argument("--rate", type=float, help="events per second (default: flat out)")
    simulate.add_argument("--seed", type=int)
    simulate.add_argument("--partner", action="append", help="limit to these partners")
    simulate.add_argument("--batch", type=int, default=500, help="changes per transaction")
    simulate.set_defaults(handler=run_simulate)


def run_emit(args: argparse.Namespace, settings: Settings) -> int:
    recorder = build_recorder(args.region)
    conn = connect(settings.region_database_url(args.region), application_name="casesync-emit")
    try:
        with transaction(conn) as cur:
            expected = args.expected_version
            if expected is None:
                cur.execute("SELECT version FROM cases WHERE case_id = %s", (args.case_id,))
                row = cur.fetchone()
                expected = 0 if row is None else row[0]
            event = recorder.record(cur, _change_from(args, expected))
    finally:
        conn.close()
    print(json.dumps({
        "event_id": event.event_id, "case_id": event.case_id, "version": event.case_version,
        "state": event.snapshot.state.value, "targets": list(event.target_regions),
    }, ensure_ascii=False))  # fmt: skip
    return 0


def _change_from(args: argparse.Namespace, expected: int) -> CaseChange:
    applicant = None
    if args.applicant_name:
        kind = ApplicantKind.COMPANY if args.company else ApplicantKind.PERSON
        applicant = Applicant(kind, args.applicant_name, args.id_number, args.credit_code)
    elif expected == 0:
        raise ConfigError("a new case needs --applicant-name (and --item, --mode)")
    return CaseChange(
        case_id=args.case_id,
        event_type=EventType(args.event),
        expected_version=expected,
        occurred_at=datetime.now(UTC),
        # A region's systems know their own item codes; events carry the national one.
        item_code=shipped_catalogue().national_code(args.region, args.item) if args.item else None,
        handling_mode=HandlingMode(args.mode) if args.mode else None,
        applicant=applicant,
        target_regions=tuple(args.target) if args.target else None,
    )


def run_relay(args: argparse.Namespace, settings: Settings) -> int:
    metrics = Metrics()
    if args.metrics_port:
        serve(metrics, args.metrics_port)
    relay = build_relay(settings, args.region, metrics=metrics)
    log.info("relay starting", region=args.region,
             inboxes=TopicNames(settings.topic_prefix).inbox("<target>"))  # fmt: skip
    stats = relay.run(stop_on_signals(), until_idle=args.until_idle)
    log.info("relay stopped", region=args.region, published=stats.published,
             batches=stats.batches, untargeted=stats.untargeted, held=stats.held)  # fmt: skip
    return 0


def run_simulate(args: argparse.Namespace, settings: Settings) -> int:
    catalogue = shipped_catalogue()
    simulation = Simulation(catalogue, args.region, args.seed)
    planned = simulation.plan(args.cases, datetime.now(UTC).date(), args.partner)
    total = sum(len(case.path) for case in planned)
    recorder = build_recorder(args.region)
    conn = connect(settings.region_database_url(args.region), application_name="casesync-sim")
    stop = stop_on_signals()
    started, done = time.monotonic(), 0
    changes = simulation.changes(planned, datetime)
    try:
        for done in record_in_batches(conn, recorder, changes, _batch_size(args)):
            _pace(args.rate, started, done)
            _progress(done, total, started)
            if stop.is_set():
                break
    finally:
        conn.close()
    _progress(done, total, started, final=True)
    return 0


def _batch_size(args: argparse.Namespace) -> int:
    if args.rate:  # small transactions at a steady pace: latency is measured from commit
        return max(1, min(int(args.batch), int(args.rate / 50)))
    return int(args.batch)


def _pace(rate: float | None, started: float, done: int) -> None:
    if rate:
        ahead = done / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)


def _progress(done: int, total: int, started: float, final: bool = False) -> None:
    elapsed = max(time.monotonic() - started, 1e-9)
    if sys.stderr.isatty() and not final:
        print(f"\r{done}/{total} events, {done / elapsed:,.0f}/s", end="", file=sys.stderr)
    elif final:
        prefix = "\r" if sys.stderr.isatty() else ""
        print(f"{prefix}recorded {done} events in {elapsed:.1f} s ({done / elapsed:,.0f}/s)",
              file=sys.stderr)  # fmt: skip
