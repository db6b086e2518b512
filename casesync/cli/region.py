"""``casesync region init``: a region's database, tables and the topics the agreements imply.

Composed here, not in ``producers``: the region database holds both sides' tables, and the
topics come from access provisioning (every inbox an agreement in force implies).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from casesync.access.provisioning import provision_topics
from casesync.adapters.postgres import Migration, connect, ensure_database
from casesync.adapters.topics import TopicNames
from casesync.domain.loading import shipped_catalogue
from casesync.domain.workdays import china_date
from casesync.settings import Settings
from consumers.schema import migrate_region
from producers.app import load_recording_rules


@dataclass(frozen=True, slots=True)
class RegionSetUp:
    """What ``init_region`` did."""

    database_created: bool
    migrations: list[Migration]
    topics_created: list[str]


def register(commands: Any) -> None:
    region = commands.add_parser("region", help="set up a region").add_subparsers(
        dest="region_command", required=True, metavar="ACTION"
    )
    init = region.add_parser(
        "init",
        help="create the region database and tables, and every inbox the agreements imply",
    )
    init.add_argument("--region", required=True, help="GB/T 2260 code, e.g. 320623")
    init.set_defaults(handler=run_init)


def run_init(args: argparse.Namespace, settings: Settings) -> int:
    done = init_region(settings, args.region)
    print(
        f"region {args.region}: database {'created' if done.database_created else 'present'}, "
        f"{len(done.migrations)} migration(s) applied, "
        f"{len(done.topics_created)} topic(s) created"
    )
    return 0


def init_region(settings: Settings, region: str) -> RegionSetUp:
    """Create the region's database if missing, migrate it, and create the topics the
    agreements in force imply (all idempotent).

    The topics are every region's inbox and dead-letter topic the agreements name (a national
    item goes to every region's inbox) and the shared schema log, as ``access apply`` makes
    them, so a newcomer's relay finds every inbox it delivers to.
    """
    catalogue = shipped_catalogue()
    catalogue.region(region)  # an unknown region code fails here, clearly
    url = settings.region_database_url(region)
    created = ensure_database(url)
    conn = connect(url, application_name="casesync-init")
    try:
        applied = migrate_region(conn)
        load_recording_rules(conn, region)  # what casesync_api.record_change enforces
    finally:
        conn.close()
    topics = provision_topics(
        settings.kafka,
        settings.topics,
        catalogue,
        TopicNames(settings.topic_prefix),
        china_date(datetime.now(UTC)),
        regions=[region],
    )
    return RegionSetUp(created, applied, topics)
