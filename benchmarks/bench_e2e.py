"""End to end, every part running at once: record → outbox → relay → broker → consumer → mirror.

    .venv/bin/python benchmarks/bench_e2e.py [--events 100000] [--rate 1000] [--seconds 20]
        [--unsigned] [--cluster [--cluster-port PORT]]

Two regions, 如东 320623 and 桐乡 330483, each its own ``casesync run`` process (relay and
consumer), each recording its own cases toward the other with ``casesync simulate`` (another
process each), on fresh databases and topics, after a CHECKPOINT (what earlier runs left dirty is
written out before, not during, the measurement). Recording starts once both relays lead their
outboxes and both consumers hold their partitions.
1. latency (first, while the machine is at rest): both simulators at ``--rate``/2 events/s each
   for ``--seconds``. The sync latency of each event is its mirror row's write time minus its
   ``occurred_at`` (set when the regional system made the change, before its commit).
2. throughput: fresh again; both simulators flat out, ``--events`` in all; timed from the start
   of recording to the moment both mirrors hold every event (measured in the partner databases).
With ``--unsigned`` the throughput run is repeated with signing off (``CASESYNC_SIGNING=off``)
right after, and the JSON holds the ratio of the two rates. With ``--cluster`` both are
measured again on a three-node cluster started for the purpose, after a warm-up run
(RF 3, min ISR 2, secured like the local broker; ports ``--cluster-port`` to +5, data under
``<run>/bench-cluster``), and the JSON holds both beside the ratio of the rates.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg2
from _support import (
    machine,
    scratch_database,
    scratch_topics,
    three_node_cluster,
    write_json,
)

from casesync.adapters.postgres import connect, with_database
from casesync.cli.region import init_region
from casesync.cli.run import service_ready
from casesync.settings import Settings, local_run_dir
from casesync.trust.federation import LocalFederation
from infra.paths import local_kafka_port

REGIONS = {"320623": "330483", "330483": "320623"}


def settle_writes(url: str) -> None:
    """Write out what earlier runs left dirty (a CHECKPOINT), so that their disk traffic does
    not land inside this measurement; skipped where the role may not checkpoint."""
    conn = connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CHECKPOINT")
    except psycopg2.Error as e:
        print(f"(no CHECKPOINT before the run: {e.pgerror or e})", file=sys.stderr)
    finally:
        conn.close()


class Run:
    def __init__(self, base: Settings, label: str, signing: bool = True) -> None:
        tag = f"{label}{uuid.uuid4().hex[:6]}"
        self.logs = Path(".run") / "bench" / tag
        self.logs.mkdir(parents=True, exist_ok=True)
        # Both regions sign what they publish and verify what they receive, as deployed (or,
        # for the comparison, neither does).
        trust = (LocalFederation.create(self.logs / "trust", REGIONS).environment() if signing
                 else {"CASESYNC_SIGNING": "off"})  # fmt: skip
        self.env = {
            **os.environ,
            **base.kafka.environment(),
            **trust,
            "CASESYNC_DATABASE_URL": with_database(base.database_url, f"bench_{tag}_{{region}}"),
            "CASESYNC_TOPIC_PREFIX": f"bench.{tag}.",
            "CASESYNC_TOPIC_REPLICATION_FACTOR": str(base.topics.replication_factor),
            "CASESYNC_TOPIC_MIN_INSYNC_REPLICAS": str(base.topics.min_insync_replicas),
        }
        self.settings = Settings.from_env(self.env)
        scratch_topics(base.kafka, self.settings.topic_prefix)
        for region in REGIONS:
            scratch_database(self.settings.region_database_url(region))
        self.processes: list[subprocess.Popen[bytes]] = []
        for region in REGIONS:
            init_region(self.settings, region)
        settle_writes(self.settings.region_database_url(next(iter(REGIONS))))

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "casesync", "--log-json", *args],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.processes.append(process)
        return process

    def scalar(self, region: str, query: str) -> Any:
        conn = connect(self.settings.region_database_url(region))
        try:
            with conn.cursor() as cur:
                cur.execute(query)
                row = cur.fetchone()
                return None if row is None else row[0]
        finally:
            conn.close()

    def applied(self) -> int:
        return sum(int(self.scalar(r, "SELECT count(*) FROM mirror_history")) for r in REGIONS)

    def recorded(self) -> int:
        return sum(int(self.scalar(r, "SELECT count(*) FROM case_history")) for r in REGIONS)

    def services(self, timeout: float = 120.0) -> None:
        """Start each region's service; return once every relay leads its outbox and every
        consumer holds its partitions (their log lines say so), so traffic meets a running
        system rather than one still joining its group."""
        for region in REGIONS:
            self.spawn(f"{region}-run", "run", "--region", region)
        logs = [self.logs / f"{region}-run.log" for region in REGIONS]
        deadline = time.monotonic() + timeout
        while not all(service_ready(log) for log in logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise SystemExit(f"services not ready within {timeout:.0f} s; see {self.logs}")
            time.sleep(0.2)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            process.wait(timeout=60)


def wait_until_mirrored(
    run: Run, simulators: list[subprocess.Popen[bytes]], timeout: float
) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = all(s.poll() is not None for s in simulators)
        if done and run.applied() >= run.recorded():
            return time.monotonic()
        time.sleep(0.2)
    raise SystemExit(f"not mirrored within {timeout:.0f} s; see {run.logs}")


def throughput(base: Settings, events: int, signing: bool = True) -> dict[str, Any]:
    run = Run(base, "tp" if signing else "tpu", signing)
    try:
        run.services()
        cases = events // 2 // 5
        started = time.monotonic()
        simulators = [
            run.spawn(f"{region}-simulate", "simulate", "--region", region, "--cases",
                      str(cases), "--partner", partner, "--seed", str(n), "--batch", "1000")
            for n, (region, partner) in enumerate(REGIONS.items())
        ]  # fmt: skip
        finished = wait_until_mirrored(run, simulators, 900)
        recorded_at = max(s.wait() or 0 for s in simulators)
        total = run.applied()
        assert recorded_at == 0
        return {"events": total, "seconds": round(finished - started, 2),
                "events_per_s": round(total / (finished - started))}  # fmt: skip
    finally:
        run.stop()


def latency(base: Settings, rate: float, seconds: float) -> dict[str, Any]:
    run = Run(base, "lat")
    try:
        run.services()
        per_region = rate / len(REGIONS)
        cases = max(1, int(per_region * seconds / 5))
        simulators = [
            run.spawn(f"{region}-simulate", "simulate", "--region", region, "--cases",
                      str(cases), "--partner", partner, "--seed", str(n), "--rate",
                      str(per_region))
            for n, (region, partner) in enumerate(REGIONS.items())
        ]  # fmt: skip
        wait_until_mirrored(run, simulators, 300)
        figures: dict[str, Any] = {"target_rate": rate}
        query = (
            "SELECT percentile_cont(ARRAY[0.5, 0.9, 0.99, 0.999]) WITHIN GROUP (ORDER BY"
            " extract(epoch FROM applied_at - occurred_at)), count(*), max(extract(epoch FROM"
            " applied_at - occurred_at)), extract(epoch FROM max(occurred_at) - min(occurred_at))"
            " FROM mirror_history"
        )
        rows = {region: run_row(run, region, query) for region in REGIONS}
        pooled = sorted(float(v) for region in REGIONS for v in run_latencies(run, region))
        figures["events"] = len(pooled)
        for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)):
            figures[f"{name}_ms"] = round(
                1000 * pooled[min(len(pooled) - 1, int(q * len(pooled)))], 1
            )
        figures["max_ms"] = round(1000 * pooled[-1], 1)
        span = max(float(row[3]) for row in rows.values())
        figures["achieved_rate"] = round(len(pooled) / span) if span else None
        return figures
    finally:
        run.stop()


def run_row(run: Run, region: str, query: str) -> tuple[Any, ...]:
    conn = connect(run.settings.region_database_url(region))
    try:
        with conn.cursor() as cur:
            cur.execute(query)
            row = cur.fetchone()
            assert row is not None
            return tuple(row)
    finally:
        conn.close()


def run_latencies(run: Run, region: str) -> list[float]:
    conn = connect(run.settings.region_database_url(region))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT extract(epoch FROM applied_at - occurred_at) FROM mirror_history")
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


def measure(
    base: Settings, args: argparse.Namespace, unsigned: bool = False, warm_up: bool = False
) -> dict[str, Any]:
    """Latency at ``--rate``, then (unless ``--latency-only``) throughput, on ``base``'s broker;
    ``unsigned``: throughput once more with signing off; ``warm_up``: a quarter of the
    throughput run first, not measured, for brokers just started."""
    if warm_up:
        # Brokers just started spend their first minute compiling (all of both cores with three
        # of them): latency measured then is the JIT's, not the cluster's (p50 ~600 ms seen).
        print("warming the brokers up ...", file=sys.stderr)
        throughput(base, max(1000, args.events // 4))
    print(f"end-to-end latency at {args.rate:g} events/s on {base.kafka} ...", file=sys.stderr)
    lat = latency(base, args.rate, args.seconds)
    print(f"  p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms over {lat['events']:,} events",
          file=sys.stderr)  # fmt: skip
    tp: dict[str, Any] = {}
    if not args.latency_only:
        print("end-to-end throughput ...", file=sys.stderr)
        tp = throughput(base, args.events)
        print(f"  {tp['events']:,} events in {tp['seconds']} s: {tp['events_per_s']:,}/s",
              file=sys.stderr)  # fmt: skip
        if unsigned:
            plain = throughput(base, args.events, signing=False)
            tp["unsigned_events_per_s"] = plain["events_per_s"]
            tp["signed_over_unsigned"] = round(tp["events_per_s"] / plain["events_per_s"], 3)
            print(f"  without signatures {plain['events_per_s']:,}/s: signed/unsigned "
                  f"{tp['signed_over_unsigned']}", file=sys.stderr)  # fmt: skip
    return {"throughput": tp, "latency": lat}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--latency-only", action="store_true", help="skip the throughput run")
    parser.add_argument("--unsigned", action="store_true",
                        help="throughput again with signing off, for the ratio")  # fmt: skip
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="measure on a three-node cluster too, started for the purpose",
    )
    parser.add_argument(
        "--cluster-port",
        type=int,
        default=None,
        help="its first node's port (default: the local broker's port + 10)",
    )
    parser.add_argument("--json")
    args = parser.parse_args()
    base = Settings.from_env()
    results: dict[str, Any] = {**measure(base, args, args.unsigned), "machine": machine()}
    if args.cluster:
        first_port = args.cluster_port or local_kafka_port() + 10
        print(f"three-node cluster on ports {first_port}-{first_port + 5} ...", file=sys.stderr)
        with three_node_cluster(first_port, local_run_dir(os.environ) / "bench-cluster") as on3:
            cluster = measure(on3, args, warm_up=True)
        results["cluster"] = {"nodes": 3, "replication_factor": 3, "min_insync_replicas": 2,
                              **cluster}  # fmt: skip
        single_rate = results["throughput"].get("events_per_s")
        cluster_rate = cluster["throughput"].get("events_per_s")
        if single_rate and cluster_rate:
            results["cluster"]["rate_over_single"] = round(cluster_rate / single_rate, 2)
            print(f"  three nodes / single node: {cluster_rate / single_rate:.2f}",
                  file=sys.stderr)  # fmt: skip
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
