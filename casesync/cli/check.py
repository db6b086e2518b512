"""``casesync check``: can this process reach its Kafka and PostgreSQL?"""

from __future__ import annotations

import argparse
from typing import Any

from casesync.adapters.reachability import check_database, check_kafka
from casesync.settings import Settings


def register(commands: Any) -> None:
    parser = commands.add_parser("check", help="check that Kafka and PostgreSQL answer")
    parser.set_defaults(handler=run)


def run(_: argparse.Namespace, settings: Settings) -> int:
    check_kafka(settings.kafka_bootstrap)
    print(f"Kafka      {settings.kafka_bootstrap} answers")
    check_database(settings.database_url)
    print(f"PostgreSQL {settings.database_url_redacted} answers")
    return 0
