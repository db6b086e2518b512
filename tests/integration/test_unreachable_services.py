"""A wrong service address gives one clear line naming what could not be reached."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from casesync.testing import Services

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_check(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_overrides}
    return subprocess.run(
        [sys.executable, "-m", "casesync", "check"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_wrong_kafka_bootstrap_is_one_line_naming_the_address() -> None:
    """`casesync check` with a dead bootstrap exits 2 with one stderr line, no traceback."""
    address = f"127.0.0.1:{_free_port()}"
    done = _run_check({"CASESYNC_KAFKA_BOOTSTRAP": address})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"casesync: cannot reach Kafka at {address}: no broker answered within 10 s"
    ]


def test_wrong_database_url_is_one_line_without_the_password(
    casesync_services: object,
) -> None:
    """A dead database URL exits 2 with one line that names it and hides its password."""
    port = _free_port()
    done = _run_check({"CASESYNC_DATABASE_URL": f"postgresql://u:hunter2@127.0.0.1:{port}/x"})
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2
    assert len(lines) == 1
    assert f"cannot reach PostgreSQL at postgresql://u:***@127.0.0.1:{port}/x" in lines[0]
    assert "hunter2" not in done.stderr


def test_a_region_set_up_against_a_dead_broker_is_one_line_naming_it(
    casesync_services: Services,
) -> None:
    """`casesync region init` (database fine, broker address dead) exits 2 with one line."""
    address = f"127.0.0.1:{_free_port()}"
    env = {
        **os.environ,
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
        f"casesync: cannot reach Kafka at {address}: no broker answered within 10 s"
    )
