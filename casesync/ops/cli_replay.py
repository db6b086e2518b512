"""``casesync replay export | apply | publish``: record a topic; replay it to a region or topic."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from casesync.ops import replay
from casesync.ops.moments import moment_argument
from casesync.settings import Settings


def register(commands: Any) -> None:
    parser = commands.add_parser("replay", help="record a topic to a file and replay it")
    actions = parser.add_subparsers(dest="replay_command", required=True, metavar="ACTION")

    export = actions.add_parser("export", help="write a topic's records to an Avro file")
    export.add_argument("--topic", required=True)
    export.add_argument("--out", required=True, type=Path, metavar="FILE.avro")
    export.add_argument(
        "--since",
        type=moment_argument,
        metavar="TIME",
        help="first record time: ISO 8601 (China time) or an age: 30m, 2h, 1d",
    )
    export.add_argument(
        "--until", type=moment_argument, metavar="TIME", help="stop before this time"
    )
    export.add_argument("--from-offset", type=int, metavar="N", help="first offset, per partition")
    export.add_argument(
        "--to-offset", type=int, metavar="N", help="stop before this offset, per partition"
    )
    export.add_argument(
        "--partition", type=int, action="append", help="only this partition (repeatable)"
    )
    export.set_defaults(handler=run_export)  # fmt: skip

    apply = actions.add_parser("apply", help="apply a recording to a region database, no broker")
    apply.add_argument("file", type=Path, metavar="FILE")
    apply.add_argument("--region", required=True, help="GB/T 2260 code of the receiving region")
    apply.set_defaults(handler=run_apply)

    publish = actions.add_parser("publish", help="send a recording's records to a topic")
    publish.add_argument("file", type=Path, metavar="FILE")
    publish.add_argument("--topic", required=True)
    publish.set_defaults(handler=run_publish)


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    wanted = replay.Range(
        args.from_offset, args.to_offset, args.since, args.until, tuple(args.partition or ())
    )
    count = replay.export(settings, args.topic, wanted, args.out)
    print(f"{count} records of {args.topic} written to {args.out}")
    if count == 0:
        print(f"casesync: {args.topic} holds no records in that range", file=sys.stderr)
    return 0


def run_apply(args: argparse.Namespace, settings: Settings) -> int:
    stats = replay.apply(settings, args.file, args.region)
    print(
        f"region {args.region}: {stats.records} records, {stats.skipped} applied before, "
        f"{stats.applied} applied now, {stats.ignored} already applied or stale, "
        f"{stats.held} held for an earlier version, {stats.not_targeted} not shared with "
        f"this region, {stats.dead_lettered} dead-lettered"
    )
    return 0


def run_publish(args: argparse.Namespace, settings: Settings) -> int:
    count = replay.publish(settings, args.file, args.topic)
    print(f"{count} records published to {args.topic}")
    return 0
