"""``casesync dlq list | show ID | redrive [ID… | --all]``, for one region's dead letters."""

from __future__ import annotations

import argparse
import getpass
import json
from typing import Any

from casesync.adapters.postgres import connect, transaction
from casesync.adapters.schema_topic import KafkaSchemaSource
from casesync.adapters.topics import TopicNames
from casesync.contract.codec import case_event_codec
from casesync.errors import ConfigError
from casesync.ops import redrive
from casesync.ops.applying import build_apply_parts, prepare_region_database
from casesync.ops.errors import DeadLetterNotFound
from casesync.ops.tail import describe, json_default, to_json_line
from casesync.ops.topic_reader import RawRecord
from casesync.settings import Settings
from consumers.compose import verify_step

_LIST = (
    'SELECT d.id, d.dead_at, d.topic, d.partition, d."offset", d.stage, d.error_class, d.reason,'
    " d.case_id, d.event_id, r.outcome, r.redriven_at FROM dead_letters d"
    " LEFT JOIN dead_letter_redrives r ON r.dead_letter_id = d.id AND r.resolved"
)


def register(commands: Any) -> None:
    dlq = commands.add_parser("dlq", help="inspect and redrive a region's dead letters")
    actions = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="dead letters not yet resolved by a redrive")
    listing.add_argument("--region", required=True, help="GB/T 2260 code of this region")
    listing.add_argument("--all", action="store_true", help="include redriven ones")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true", help="JSON lines")
    listing.set_defaults(handler=run_list)

    show = actions.add_parser("show", help="one dead letter: record, decoded event, redrives")
    show.add_argument("id", type=int, metavar="ID")
    show.add_argument("--region", required=True)
    show.add_argument("--show-personal-data", action="store_true",
                      help="print ID numbers, credit codes and names unmasked")  # fmt: skip
    show.set_defaults(handler=run_show)

    again = actions.add_parser("redrive", help="apply dead letters again, once each, audited")
    again.add_argument("ids", type=int, nargs="*", metavar="ID")
    again.add_argument("--all", action="store_true", help="every dead letter still open")
    again.add_argument("--region", required=True)
    again.add_argument("--by", default=None, help="who asks (default: the login name)")
    again.set_defaults(handler=run_redrive)


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.region_database_url(args.region)
    prepare_region_database(url)  # the redrive table may be new to this database
    where = "" if args.all else " WHERE r.id IS NULL"
    conn = connect(url, application_name="casesync-ops")
    try:
        with transaction(conn) as cur:
            cur.execute(_LIST + where + " ORDER BY d.id LIMIT %s", (args.limit,))
            rows = cur.fetchall()
    finally:
        conn.close()
    if not rows and not args.json:
        print("no dead letters" if args.all else "no open dead letters")
    for (
        i,
        dead_at,
        topic,
        partition,
        offset,
        stage,
        cls,
        reason,
        case,
        event,
        outcome,
        when,
    ) in rows:
        item = {
            "id": i, "dead_at": dead_at.isoformat(), "topic": topic, "partition": partition,
            "offset": offset, "stage": stage, "error_class": cls, "reason": reason,
            "case_id": case, "event_id": event, "redrive": outcome,
            "redriven_at": None if when is None else when.isoformat(),
        }  # fmt: skip
        if args.json:
            print(to_json_line(item))
        else:
            done = "" if outcome is None else f"  [redriven: {outcome}]"
            print(f"{i:>6} {dead_at:%Y-%m-%d %H:%M:%S} {topic}[{partition}]@{offset} "
                  f"{stage}/{cls}: {reason} case={case or '-'}{done}")  # fmt: skip
    return 0


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.region_database_url(args.region)
    prepare_region_database(url)
    conn = connect(url, application_name="casesync-ops")
    try:
        with transaction(conn) as cur:
            cur.execute(
                'SELECT topic, partition, "offset", record_key, payload, stage, error_class,'
                " reason, case_id, event_id, dead_at, published_at FROM dead_letters"
                " WHERE id = %s",
                (args.id,),
            )
            row = cur.fetchone()
            if row is None:
                raise DeadLetterNotFound(args.id)
            cur.execute(
                "SELECT requested_by, redriven_at, outcome, stage, error_class, reason"
                " FROM dead_letter_redrives WHERE dead_letter_id = %s ORDER BY id",
                (args.id,),
            )
            redrives = cur.fetchall()
    finally:
        conn.close()
    topic, partition, offset, key, payload, stage, cls, reason, case, event, dead, pub = row
    names = TopicNames(settings.topic_prefix)
    decode = case_event_codec(
        remote=KafkaSchemaSource(settings.kafka, names.schemas)
    ).records.decode_record
    record = RawRecord(partition, offset, int(dead.timestamp() * 1000),
                       None if key is None else bytes(key),
                       None if payload is None else bytes(payload), ())  # fmt: skip
    shown = describe(record, decode, show_personal_data=args.show_personal_data)
    shown.pop("timestamp")
    shown.pop("headers")
    document = {
        "id": args.id, "topic": topic, **shown, "stage": stage, "error_class": cls,
        "reason": reason, "case_id": case, "event_id": event, "dead_at": dead.isoformat(),
        "published_at": None if pub is None else pub.isoformat(),
        "redrives": [
            {"by": by, "at": at.isoformat(), "outcome": outcome, "stage": s,
             "error_class": c, "reason": why}
            for by, at, outcome, s, c, why in redrives
        ],
    }  # fmt: skip
    print(json.dumps(document, ensure_ascii=False, indent=2, default=json_default))
    return 0


def run_redrive(args: argparse.Namespace, settings: Settings) -> int:
    if bool(args.ids) == bool(args.all):
        raise ConfigError("dlq redrive takes dead-letter ids or --all (one of the two)")
    url = settings.region_database_url(args.region)
    prepare_region_database(url)
    names = TopicNames(settings.topic_prefix)
    schemas = KafkaSchemaSource(settings.kafka, names.schemas)
    parts = build_apply_parts(args.region, url, schemas, verify_step(settings, args.region))
    ids = list(args.ids)
    if args.all:
        conn = connect(url, application_name="casesync-ops")
        try:
            with transaction(conn) as cur:
                ids = redrive.open_ids(cur)
        finally:
            conn.close()
    results = redrive.Redriver(parts, args.by or getpass.getuser()).redrive(ids)
    for result in results:
        print(f"{result.dead_letter_id}: {result.outcome} {result.detail}".rstrip())
    return 1 if any(r.outcome == "rejected" for r in results) else 0
