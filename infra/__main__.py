"""``python -m infra up|down|status|clean``: start, stop and show the local Kafka and PostgreSQL;
``clean`` deletes what the run folder keeps outside it (before ``make clean`` deletes the folder).

When ``CASESYNC_KAFKA_BOOTSTRAP`` or ``CASESYNC_DATABASE_URL`` is set, that service is used as it
is: nothing local is started for it, ``up`` only checks that it answers.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from casesync.adapters.reachability import check_database, check_kafka
from casesync.errors import CasesyncError
from casesync.settings import Settings
from infra.errors import InfraError
from infra.kafka.inspect import read_cluster
from infra.kafka.launcher import KafkaLauncher, pinned_version
from infra.paths import run_dir
from infra.postgres.launcher import PostgresLauncher, forget_outside_clusters


def up(settings: Settings) -> None:
    """Start whatever is local and not yet running; report readiness times."""
    if settings.kafka_overridden:
        check_kafka(settings.kafka)
        print(f"Kafka      external {settings.kafka} (CASESYNC_KAFKA_BOOTSTRAP) answers")
    else:
        kafka = KafkaLauncher()
        began = time.monotonic()
        started = kafka.start()
        verb = "started" if started else "already running"
        size = f"{kafka.nodes} nodes " if kafka.clustered else ""
        print(
            f"Kafka      {pinned_version()} {size}{verb} at {kafka.bootstrap}, "
            f"ready in {time.monotonic() - began:.1f} s (log {kafka.log_file})"
        )
        if kafka.secured:
            print(
                f"           SASL_SSL (SCRAM-SHA-512): CA {kafka.tls.ca_cert}, "
                f"admin credentials {kafka.admin_secrets}"
            )
        else:
            print("           PLAINTEXT: no TLS, no authentication (CASESYNC_KAFKA_SECURITY)")
    if settings.database_overridden:
        check_database(settings.database_url)
        print(
            f"PostgreSQL external {settings.database_url_redacted} (CASESYNC_DATABASE_URL) answers"
        )
    else:
        postgres = PostgresLauncher()
        began = time.monotonic()
        started = postgres.start()
        verb = "started" if started else "already running"
        print(
            f"PostgreSQL {verb} at {postgres.url}, "
            f"ready in {time.monotonic() - began:.1f} s (log {postgres.log_file})"
        )


def down(settings: Settings) -> None:
    """Stop the local services this project started; external ones are left alone."""
    if not settings.kafka_overridden:
        print("Kafka      stopped" if KafkaLauncher().stop() else "Kafka      was not running")
    if not settings.database_overridden:
        stopped = PostgresLauncher().stop()
        print("PostgreSQL stopped" if stopped else "PostgreSQL was not running")


def clean(settings: Settings) -> None:
    """Before the run folder is deleted: delete what it keeps elsewhere (PostgreSQL clusters
    placed outside a clone the server's account cannot reach)."""
    del settings  # the run folder alone says what to delete
    for folder in forget_outside_clusters(run_dir()):
        print(f"PostgreSQL data deleted: {folder}")


def status(settings: Settings) -> None:
    """Say what runs where."""
    kafka, postgres = KafkaLauncher(), PostgresLauncher()
    if settings.kafka_overridden:
        print(f"Kafka      external {settings.kafka_bootstrap}")
    elif kafka.clustered:
        _cluster_status(kafka)
    else:
        pid = kafka.running_pid()
        state = f"running (pid {pid}) at {kafka.bootstrap}" if pid else "not running"
        print(f"Kafka      {pinned_version()} {state}, data {kafka.home}")
    if settings.database_overridden:
        print(f"PostgreSQL external {settings.database_url_redacted}")
    else:
        pid = postgres.running_pid()
        state = f"running (pid {pid}) at {postgres.url}" if pid else "not running"
        print(f"PostgreSQL {state}, data {postgres.data}")


def _cluster_status(kafka: KafkaLauncher) -> None:
    """Every node, then who leads the metadata quorum and how many partitions each leads."""
    pids = kafka.running_pids()
    view = None
    if not any(pids.values()):
        print(f"Kafka      {pinned_version()}, {kafka.nodes} nodes, not running, data {kafka.home}")
    else:
        try:
            view = read_cluster(kafka.access)
        except Exception as e:  # noqa: BLE001 - a cluster without quorum still gets its nodes shown
            reason = type(e).__name__
            print(f"Kafka      {pinned_version()}, {kafka.nodes} nodes; no answer ({reason})")
    if view is not None:
        print(
            f"Kafka      {pinned_version()}, {kafka.nodes} nodes, data {kafka.home}; quorum "
            f"leader node {view.quorum_leader} (epoch {view.quorum_epoch}, voters "
            f"{view.voters}); {view.partitions} partitions, "
            f"{view.under_replicated} under-replicated"
        )
    for node in kafka.members:
        pid = pids[node.node_id]
        if pid is None:
            print(f"  node {node.node_id}   not running (client port {node.port})")
            continue
        role = []
        if view is not None:
            role.append("broker" if node.node_id in view.brokers else "not a live broker")
            if view.quorum_leader == node.node_id:
                role.append("active controller")
            role.append(f"leads {view.leading.get(node.node_id, 0)} partitions")
        print(
            f"  node {node.node_id}   running (pid {pid}) at {node.address}, controller "
            f"{node.controller_address}: {', '.join(role) or 'state unknown'}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra", description=__doc__)
    parser.add_argument("action", choices=["up", "down", "status", "clean"])
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        {"up": up, "down": down, "status": status, "clean": clean}[args.action](settings)
    except (CasesyncError, InfraError) as e:
        print(f"casesync infra: {e}", file=sys.stderr)
        return 2
    except (OSError, subprocess.CalledProcessError) as e:
        # A folder it may not write, a tool (apt-get, the storage tool) that failed: one line.
        print(f"casesync infra: {args.action} failed: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
