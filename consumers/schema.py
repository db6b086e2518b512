"""The consumer's tables, as migrations ``casesync region init`` (and tests) apply."""

from __future__ import annotations

from pathlib import Path

from casesync.adapters.postgres import Connection, Migration, apply_migrations, migrations_in

COMPONENT = "consumers"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
PRODUCER_MIGRATIONS_DIR = Path(__file__).parent.parent / "producers" / "migrations"


def migrations() -> list[Migration]:
    """The consumer's migrations, in order."""
    return migrations_in(COMPONENT, MIGRATIONS_DIR)


def region_migrations() -> list[Migration]:
    """Every table a region database holds: the producer's, then the consumer's (a consumer
    records workflow answers through the producer's tables)."""
    return migrations_in("producers", PRODUCER_MIGRATIONS_DIR) + migrations()


def migrate_region(conn: Connection) -> list[Migration]:
    """Apply the region's migrations not yet applied."""
    return apply_migrations(conn, region_migrations())
