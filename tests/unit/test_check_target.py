"""Which database `casesync check` asks, for each shape of CASESYNC_DATABASE_URL."""

from __future__ import annotations

import pytest

from casesync.cli.check import _database_to_check
from casesync.settings import Settings


def _settings(url: str) -> Settings:
    return Settings(database_url=url, database_overridden=True)


@pytest.mark.parametrize(
    ("url", "region", "checked"),
    [
        ("postgresql://u@db/casesync", None, "postgresql://u@db/casesync"),
        ("postgresql://u@db:5432/casesync_{region}?sslmode=require", None,
         "postgresql://u@db:5432/postgres?sslmode=require"),
        ("postgresql://u@db/casesync_{region}", "320623", "postgresql://u@db/casesync_320623"),
        ("postgresql://u@db-{region}.example/casesync", "320623",
         "postgresql://u@db-320623.example/casesync"),
        ("postgresql://u@db-{region}.example/casesync", None, None),
    ],
)  # fmt: skip
def test_the_database_checked_follows_the_url_and_region(
    url: str, region: str | None, checked: str | None
) -> None:
    """A plain URL is checked as is; a database per region on one server is checked on the
    server's own database, query kept; a server per region needs ``--region`` (None)."""
    assert _database_to_check(_settings(url), region) == checked
