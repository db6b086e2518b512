"""``casesync region init``: a region's database, tables, and what the agreements imply on the
broker.

Composed here, not in ``producers``: the region database holds both sides' tables, and the
broker's side comes from access provisioning. With an administrator's credentials it is what
``casesync access apply`` does (principals, topics, ACLs), so a newcomer works at once; with a
region's own credentials nothing is created on the broker (a region may create nothing there).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from casesync.access.errors import AdminRefused
from casesync.access.provisioning import Provisioned, provision_cluster
from casesync.adapters.postgres import Migration, connect, ensure_database
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
    broker: Provisioned | None  # None: the credentials are no administrator's; nothing made

    @property
    def topics_created(self) -> tuple[str, ...]:
        return () if self.broker is None else self.broker.topics_created

    def describe(self, region: str, principal: str) -> str:
        """One line for people: what was created, on the database and on the broker."""
        database = "created" if self.database_created else "present"
        line = f"region {region}: database {database}, {len(self.migrations)} migration(s) applied"
        if self.broker is None:
            return (
                f"{line}; nothing created on the broker: {principal} is no administrator "
                "(`casesync access apply` as one provisions it)"
            )
        line += f", {len(self.broker.topics_created)} topic(s) created"
        applied = self.broker.applied
        if applied is None:
            return line
        return (
            f"{line}, {len(applied.principals_created)} principal(s) created, "
            f"{len(applied.acls_granted)} ACL(s) granted, {len(applied.acls_revoked)} revoked"
        )


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
    done = init_region(settings, args.region, grant_access=True)
    print(done.describe(args.region, f"user {settings.kafka.security.username or '?'}"))
    return 0


def init_region(settings: Settings, region: str, *, grant_access: bool = False) -> RegionSetUp:
    """Create the region's database if missing, migrate it, and, with an administrator's
    credentials, create the topics the agreements in force imply (all idempotent);
    ``grant_access`` also creates their principals and reconciles their ACLs.

    The topics are every region's inbox and dead-letter topic the agreements name (a national
    item goes to every region's inbox) and the shared schema log, as ``access apply`` makes
    them, so a newcomer's relay finds every inbox it delivers to. A region's own principal may
    create nothing on the broker: then the broker is left as it is (``broker`` is None).
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
    on = china_date(datetime.now(UTC))
    try:
        broker = provision_cluster(settings, catalogue, on, [region], apply=grant_access)
    except AdminRefused:
        broker = None
    return RegionSetUp(created, applied, broker)
