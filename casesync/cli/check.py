"""``casesync check``: can this process reach its Kafka and PostgreSQL?"""

from __future__ import annotations

import argparse
import sys
from typing import Any
from urllib.parse import urlsplit

from casesync.adapters.postgres import with_database
from casesync.adapters.reachability import check_database, check_kafka
from casesync.errors import Unreachable
from casesync.settings import Settings, redact_url


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "check", help="check that Kafka and PostgreSQL answer (one line each)"
    )
    parser.add_argument(
        "--region", help="check this region's own database (default: the server only)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """A line per service (stdout if it answers, stderr if not), each checked whatever the
    other answered; 2 if any is away."""
    away = 0
    try:
        check_kafka(settings.kafka)
        print(f"Kafka      {settings.kafka} answers")
    except Unreachable as e:
        print(f"casesync: {e}", file=sys.stderr)
        away += 1
    url = _database_to_check(settings, args.region)
    if url is None:
        print(
            "casesync: CASESYNC_DATABASE_URL names a server per region; add --region CODE to "
            "check one",
            file=sys.stderr,
        )
        return 2
    try:
        check_database(url)
        print(f"PostgreSQL {redact_url(url)} answers")
    except Unreachable as e:
        hint = ""
        if args.region is not None and "does not exist" in str(e):
            hint = f" (run `casesync region init --region {args.region}`)"
        print(f"casesync: {e}{hint}", file=sys.stderr)
        away += 1
    return 2 if away else 0


def _database_to_check(settings: Settings, region: str | None) -> str | None:
    """The URL to check; None when only a region's own one would tell (``--region``)."""
    if region is not None:
        return settings.region_database_url(region)
    if "{region}" not in settings.database_url:
        return settings.database_url
    if "{region}" in urlsplit(settings.database_url).netloc:
        return None  # a server per region: no server to ask without the region
    # A database per region on one server, made by `region init`: the server's own database
    # answers for the server.
    return with_database(settings.database_url, "postgres")
