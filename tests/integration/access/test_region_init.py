"""``casesync region init`` provisions the broker as ``access apply`` does, for an administrator
only: a region's own principal changes nothing there and says so in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaAdminClient

from casesync.access.desired import desired_access
from casesync.access.plan import DEFAULT_PROTECTED
from casesync.adapters.topics import TopicNames
from casesync.domain.loading import shipped_catalogue
from casesync.domain.workdays import china_date
from casesync.settings import KafkaAccess

from .conftest import AccessWorld

pytestmark = [pytest.mark.integration, pytest.mark.secured]

RUDONG = "320623"


def _region_init(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "casesync", "region", "init", "--region", RUDONG],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


@pytest.fixture
def fresh_prefix(
    unique_name: Callable[[str], str], access_world: AccessWorld, admin_client: KafkaAdminClient
) -> Iterator[TopicNames]:
    """A topic prefix of this test's own; its ACLs and topics are removed afterwards."""
    names = TopicNames(unique_name("t") + ".")
    try:
        yield names
    finally:
        access_world.access.revoke_under(names.prefix, DEFAULT_PROTECTED)
        doomed = [t for t in admin_client.list_topics() if t.startswith(names.prefix)]
        if doomed:
            admin_client.delete_topics(doomed)


def _env(kafka: KafkaAccess, url: str, names: TopicNames, secrets: Path) -> dict[str, str]:
    return {
        **kafka.environment(),
        "CASESYNC_DATABASE_URL": url,
        "CASESYNC_TOPIC_PREFIX": names.prefix,
        "CASESYNC_SECRETS_DIR": str(secrets),
    }


def test_as_admin_region_init_applies_access_and_again_changes_nothing(
    casesync_kafka: KafkaAccess,
    fresh_database_url: str,
    fresh_prefix: TopicNames,
    access_world: AccessWorld,
    tmp_path: Path,
) -> None:
    """As the administrator, region init creates the topics and grants the ACLs the agreements
    imply, after which ``access plan`` has nothing to do; a second run creates nothing."""
    env = _env(casesync_kafka, fresh_database_url, fresh_prefix, tmp_path / "secrets")
    first = _region_init(env)
    assert first.returncode == 0, first.stderr
    line = first.stdout.strip()
    assert line.startswith(f"region {RUDONG}: database ")
    wanted = desired_access(shipped_catalogue(), fresh_prefix, china_date(datetime.now(UTC)))
    assert f" {len(wanted.topics)} topic(s) created" in line
    assert "ACL(s) granted" in line
    assert " 0 ACL(s) granted" not in line
    plan = subprocess.run(
        [sys.executable, "-m", "casesync", "access", "plan"],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert plan.stdout.strip().splitlines()[-1] == "no change", plan.stdout
    again = _region_init(env)
    assert again.returncode == 0, again.stderr
    assert "0 topic(s) created, 0 principal(s) created, 0 ACL(s) granted, 0 revoked" in (
        again.stdout
    )


def test_as_a_region_s_principal_region_init_creates_nothing_on_the_broker(
    fresh_database_url: str,
    fresh_prefix: TopicNames,
    access_world: AccessWorld,
    admin_client: KafkaAdminClient,
    tmp_path: Path,
) -> None:
    """A region's own principal gets its database set up, nothing on the broker, and one line
    that says so, naming the user; no topic of the prefix exists afterwards."""
    a, b, _, _ = access_world.regions
    access_world.apply(access_world.agreement(a, b))
    env = {
        **_env(access_world.broker.kafka, fresh_database_url, fresh_prefix, tmp_path / "secrets"),
        "CASESYNC_KAFKA_USERNAME": "",
        "CASESYNC_KAFKA_SECRETS_FILE": str(access_world.credentials.path_for(a)),
    }
    done = _region_init(env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"region {RUDONG}: database present, ")
    assert lines[0].endswith(
        f"; nothing created on the broker: user {a} is no administrator "
        "(`casesync access apply` as one provisions it)"
    )
    assert not [t for t in admin_client.list_topics() if t.startswith(fresh_prefix.prefix)]
