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


def migrate_region(conn: Connection) -> list[Migration]:
    """Apply the producer's and the consumer's migrations (a consumer records workflow answers
    through the producer's tables, so a region database holds both)."""
    return apply_migrations(
        conn, migrations_in("producers", PRODUCER_MIGRATIONS_DIR) + migrations()
    )
