"""A Java program records a case change and a row of its own in one JDBC transaction: a commit
leaves exactly one outbox event, a rollback none (the issue's bar, from a client that is not
casesync's Python)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import SqlRegion

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).parents[2] / "clients" / "java"


@pytest.fixture(scope="module")
def java_classpath() -> str:
    """Build the client with Maven (the PostgreSQL driver from Maven Central, cached in the
    local repository) and return the classpath that runs it."""
    built = subprocess.run(
        ["mvn", "-q", "-B", "package", "dependency:build-classpath",
         "-Dmdep.outputFile=target/classpath.txt"],
        cwd=PROJECT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    dependencies = (PROJECT / "target" / "classpath.txt").read_text().strip()
    return f"{PROJECT / 'target' / 'classes'}{os.pathsep}{dependencies}"


def _jdbc_url(url: str) -> str:
    """The JDBC form of a ``postgresql://user[:password]@host:port/db`` URL."""
    parts = urlsplit(url)
    query = f"user={parts.username}" + (f"&password={parts.password}" if parts.password else "")
    return f"jdbc:postgresql://{parts.hostname}:{parts.port or 5432}{parts.path}?{query}"


def _run(classpath: str, region: SqlRegion, case_id: str, finish: str) -> str:
    env = {**os.environ, "CASESYNC_JDBC_URL": _jdbc_url(region.url)}
    done = subprocess.run(
        ["java", "-cp", classpath, "casesync.clients.RecordChange", case_id, finish],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_committed_jdbc_transaction_leaves_exactly_one_event(
    sql_region: SqlRegion, java_classpath: str
) -> None:
    """Commit: the case at version 1, one outbox event with the id Java was given, and the
    program's own row."""
    version, event_id = _run(java_classpath, sql_region, "RD-J1", "commit").split()
    assert version == "1"
    assert sql_region.query("SELECT event_id::text, case_version FROM outbox") == [(event_id, 1)]
    assert sql_region.query("SELECT case_id FROM regional_notes") == [("RD-J1",)]


def test_a_rolled_back_jdbc_transaction_leaves_no_event(
    sql_region: SqlRegion, java_classpath: str
) -> None:
    """Rollback: no outbox event, no case, and none of the program's own rows."""
    _run(java_classpath, sql_region, "RD-J2", "rollback")
    assert sql_region.counts() == {"cases": 0, "case_history": 0, "outbox": 0, "regional_notes": 0}
