"""A wrong service address gives one clear line naming what could not be reached."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from casesync.settings import redact_url
from casesync.testing import Services
from infra.paths import free_ports

pytestmark = pytest.mark.integration


def _run_check(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_overrides}
    return subprocess.run(
        [sys.executable, "-m", "casesync", "check", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_wrong_kafka_bootstrap_is_one_line_naming_the_address(
    casesync_services: Services,
) -> None:
    """`casesync check` with a dead bootstrap exits 2 with one stderr line, no traceback, and
    still checks PostgreSQL."""
    address = f"127.0.0.1:{free_ports()}"
    done = _run_check(
        {
            **casesync_services.kafka.environment(),
            "CASESYNC_KAFKA_BOOTSTRAP": address,
            "CASESYNC_DATABASE_URL": casesync_services.database_url,
        }
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"casesync: cannot reach Kafka at {address}: no broker answered within 8 s"
    ]
    assert done.stdout.strip().splitlines() == [
        f"PostgreSQL {redact_url(casesync_services.database_url)} answers"
    ]


def test_wrong_database_url_is_one_line_without_the_password(
    casesync_services: Services,
) -> None:
    """A dead database URL exits 2 with one line that names it and hides its password."""
    port = free_ports()
    done = _run_check(
        {
            "CASESYNC_DATABASE_URL": f"postgresql://u:hunter2@127.0.0.1:{port}/x",
            **casesync_services.kafka.environment(),
        }
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2
    assert len(lines) == 1
    assert f"cannot reach PostgreSQL at postgresql://u:***@127.0.0.1:{port}/x" in lines[0]
    assert "hunter2" not in done.stderr
    assert done.stdout.strip().splitlines() == [f"Kafka      {casesync_services.kafka} answers"]


def test_a_region_database_template_is_checked_on_its_server(
    casesync_services: Services,
) -> None:
    """With a ``{region}`` URL, check asks the server (its ``postgres`` database), and with
    ``--region`` that region's database, which has to exist."""
    template = casesync_services.database_url.rpartition("/")[0] + "/casesync_{region}"
    env = {
        "CASESYNC_DATABASE_URL": template,
        **casesync_services.kafka.environment(),
    }
    server = _run_check(env)
    assert server.returncode == 0, server.stderr
    assert f"{redact_url(template.rpartition('/')[0])}/postgres answers" in server.stdout
    missing = _run_check(env, "--region", "999999")
    assert missing.returncode == 2
    assert "casesync_999999" in missing.stderr
    assert "casesync region init --region 999999" in missing.stderr


def test_a_region_set_up_against_a_dead_broker_is_one_line_naming_it(
    casesync_services: Services,
) -> None:
    """`casesync region init` (database fine, broker address dead) exits 2 with one line."""
    address = f"127.0.0.1:{free_ports()}"
    env = {
        **os.environ,
        **casesync_services.kafka.environment(),
        "CASESYNC_DATABASE_URL": casesync_services.database_url,
        "CASESYNC_KAFKA_BOOTSTRAP": address,
    }
    done = subprocess.run(
        [sys.executable, "-m", "casesync", "region", "init", "--region", "320623"],
        env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"casesync: cannot reach Kafka at {address}: no broker answered within 8 s"
    )
