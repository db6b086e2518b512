"""``casesync ops status`` and ``casesync topic tail``; registers ``dlq`` and ``replay`` too."""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from casesync.adapters.schema_topic import KafkaSchemaSource
from casesync.adapters.topics import TopicNames
from casesync.console import cli as console_cli
from casesync.contract.codec import case_event_codec
from casesync.ops import cli_dlq, cli_replay
from casesync.ops.moments import moment_argument
from casesync.ops.status import Thresholds, Verdict, exit_code
from casesync.ops.status_check import StatusOptions, check_region
from casesync.ops.tail import describe, to_json_line
from casesync.ops.topic_reader import RawRecord, TopicReader
from casesync.settings import Settings

TAIL_DEFAULT_LAST = 10


def register(commands: Any) -> None:
    ops = commands.add_parser("ops", help="operate regions: health, lag, backlog, overdue cases")
    actions = ops.add_subparsers(dest="ops_command", required=True, metavar="ACTION")
    status = actions.add_parser("status", help="lag, health verdicts, outbox, dead letters")
    status.add_argument("--region", required=True, action="append",
                        help="GB/T 2260 code (repeatable)")  # fmt: skip
    status.add_argument("--json", action="store_true", help="one JSON document on stdout")
    status.add_argument(
        "--window",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="time between the two samples that show movement (default 2)",
    )
    status.add_argument(
        "--stop-after",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="lag with no move for this long is STOP (default 300)",
    )
    status.add_argument(
        "--fail-on",
        choices=[v.name for v in Verdict],
        default="ERR",
        help="exit 1 when any verdict is this bad or worse (default ERR)",
    )
    status.set_defaults(handler=run_status)  # fmt: skip
    console_cli.register(actions)

    topic = commands.add_parser("topic", help="look into topics").add_subparsers(
        dest="topic_command", required=True, metavar="ACTION"
    )
    tail = topic.add_parser("tail", help="decoded records as JSON lines (personal data masked)")
    tail.add_argument("topic", metavar="TOPIC")
    start = tail.add_mutually_exclusive_group()
    start.add_argument("--from-beginning", action="store_true", help="from each log start")
    start.add_argument(
        "--since",
        type=moment_argument,
        metavar="TIME",
        help="from this time: ISO 8601 (China time) or an age: 30m, 2h, 1d",
    )
    tail.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help=f"at most N records (default: the last {TAIL_DEFAULT_LAST}, or all "
        "with --from-beginning/--since)",
    )
    tail.add_argument("--follow", action="store_true", help="then wait for new records")
    tail.add_argument(
        "--show-personal-data",
        action="store_true",
        help="print ID numbers, credit codes and names unmasked",
    )
    tail.set_defaults(handler=run_tail)  # fmt: skip

    cli_dlq.register(commands)
    cli_replay.register(commands)


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    options = StatusOptions(args.window, Thresholds(stop_after_s=args.stop_after))
    # Regions side by side: each waits out its own window, and they should share one.
    with ThreadPoolExecutor(max_workers=len(args.region)) as pool:
        reports = list(
            pool.map(lambda region: check_region(settings, region, options), args.region)
        )
    worst = max((Verdict[r["verdict"]] for r in reports), default=Verdict.OK)
    if args.json:
        document: Any = reports[0] if len(reports) == 1 else {"regions": reports}
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        for report in reports:
            _print_status(report)
    return exit_code(worst, Verdict[args.fail_on])


def _print_status(r: dict[str, Any]) -> None:
    print(f"region {r['region']}: {r['verdict']}  (checked {r['checked_at']})")
    for error in r["errors"]:
        print(f"  ERROR {error}")
    if "outbox" in r:
        age = r["outbox"]["oldest_age_seconds"]
        oldest = "" if age is None else f", oldest {age:.1f} s"
        refused = r["outbox"].get("refused", 0)
        refused_text = f", {refused} refused (casesync_api.refused_changes)" if refused else ""
        print(f"  outbox: {r['outbox']['backlog']} unpublished{oldest}{refused_text}"
              f" {r['outbox']['verdict']}: {r['outbox']['reason']}")  # fmt: skip
    if "manifest" in r:
        print(f"  manifest: {r['manifest']['verdict']}: {r['manifest']['reason']}")
    for p in r.get("partitions", ()):
        where = f"{p['topic']}[{p['partition']}]"
        position = "-" if p["position"] is None else p["position"]
        print(f"  {where} end {p['end_offset']} position {position} lag {p['lag']}"
              f" ({p['lag_seconds']:.1f} s) {p['verdict']}: {p['reason']}")  # fmt: skip
    for topic in r.get("missing_topics", ()):
        print(f"  {topic}: not created yet (nothing published)")
    if "dead_letters" in r:
        d = r["dead_letters"]
        print(f"  dead letters: {d['open']} open of {d['total']}, {d['unpublished']} unpublished")
        for cause in d["by_class"]:
            print(f"    {cause['count']:>6}  {cause['stage']}/{cause['error_class']}, latest: "
                  f"{cause['latest_reason']}")  # fmt: skip
    if "applied" in r:
        a = r["applied"]
        p50, p99 = (f"{x * 1000:.0f}" if x is not None else "-"
                    for x in (a["latency_p50_s"], a["latency_p99_s"]))  # fmt: skip
        print(f"  applied: {a['per_second']:.1f}/s over the last {a['window_seconds']:.0f} s,"
              f" sync latency p50 {p50} ms, p99 {p99} ms")  # fmt: skip
    if "overdue" in r:
        o = r["overdue"]
        print(f"  overdue on {o['today']}: {o['owned']} owned, {o['mirror']} mirrored")
        for c in o["cases"]:
            print(f"    {c['case_id']} ({c['side']}, {c['state']}) due {c['promised_deadline']},"
                  f" {c['working_days_overdue']} working day(s) late")  # fmt: skip


def run_tail(args: argparse.Namespace, settings: Settings) -> int:
    names = TopicNames(settings.topic_prefix)
    decode = case_event_codec(
        remote=KafkaSchemaSource(settings.kafka, names.schemas)
    ).records.decode_record
    reader = TopicReader(settings.kafka)
    try:
        partitions = reader.partitions(args.topic)
        bounds = reader.bounds(args.topic, partitions)
        if args.from_beginning:
            starts, limit = dict(bounds.start), args.limit
        elif args.since is not None:
            starts, limit = reader.offsets_at(args.topic, partitions, args.since), args.limit
        else:
            last = args.limit or TAIL_DEFAULT_LAST
            starts = {p: max(bounds.start[p], bounds.end[p] - last) for p in partitions}
            limit = None
            records = sorted(
                reader.read(args.topic, starts, bounds.end),
                key=lambda r: (r.timestamp_ms, r.partition, r.offset),
            )[-last:]
            _print_records(records, decode, args.show_personal_data)  # fmt: skip
            starts = dict(bounds.end)
            if not args.follow:
                return 0
        ends = None if args.follow else bounds.end
        printed = 0

        def enough() -> bool:
            return limit is not None and printed >= limit

        for record in reader.read(args.topic, starts, ends, stop=enough):
            _print_records([record], decode, args.show_personal_data)
            printed += 1
            if enough():
                break
    finally:
        reader.close()
    return 0


def _print_records(records: list[RawRecord], decode: Any, show_personal_data: bool) -> None:
    for record in records:
        line = describe(record, decode, show_personal_data=show_personal_data)
        sys.stdout.write(to_json_line(line) + "\n")
    sys.stdout.flush()
