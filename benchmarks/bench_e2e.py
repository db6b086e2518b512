"""End to end, every part running at once: record → outbox → relay → broker → consumer → mirror.

    .venv/bin/python benchmarks/bench_e2e.py [--events 100000] [--rate 1000] [--seconds 20]
        [--unsigned] [--stages] [--cluster [--cluster-port PORT]]

Two regions, 如东 320623 and 桐乡 330483, each its own ``casesync run`` process (relay and
consumer), each recording its own cases toward the other with ``casesync simulate`` (another
process each), on fresh databases and topics, after a CHECKPOINT (what earlier runs left dirty is
written out before, not during, the measurement). Recording starts once both relays lead their
outboxes and both consumers hold their partitions.
1. latency (first, while the machine is at rest): both simulators at ``--rate``/2 events/s each
   for ``--seconds``. The sync latency of each event is its mirror row's write time minus its
   ``occurred_at`` (set when the regional system made the change, before its commit). The
   cores the machine, the brokers and PostgreSQL kept busy while the simulators ran say whether
   the figure is the system's or a queue for the CPU. With ``--stages``, a probe consumer (its
   own fetches add a little load) reads both inboxes too, and each event's time is split into
   ``relay`` (occurred → the relay's send: commit, notification, read, sign), ``broker`` (send →
   readable by a consumer: acknowledgement by the in-sync replicas) and ``consumer`` (readable →
   its mirror row written). "Readable" is when the probe's poll returned the record: the probe's
   own delay counts in ``broker`` and out of ``consumer``, which can come out a few ms below 0.
2. throughput: fresh again; both simulators flat out, ``--events`` in all; timed from the start
   of recording to the moment both mirrors hold every event (measured in the partner databases).
With ``--unsigned`` the throughput run is repeated with signing off (``CASESYNC_SIGNING=off``)
right after, and the JSON holds the ratio of the two rates. With ``--cluster`` both are
measured again on a three-node cluster started for the purpose, after warm-up runs
(RF 3, min ISR 2, secured like the local broker; ports ``--cluster-port`` to +5, data under
``<run>/bench-cluster``), and the JSON holds both beside the ratio of the rates.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg2
from _support import (
    cpu_times,
    machine,
    scratch_database,
    scratch_topics,
    three_node_cluster,
    write_json,
)

from casesync.adapters.kafka_clients import new_consumer
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


class StageProbe:
    """Reads both inboxes as a consumer of its own (no group) and notes, per event id, the
    record's timestamp (set by the relay's producer at send) and when it became readable."""

    def __init__(self, settings: Settings) -> None:
        topics = [f"{settings.topic_prefix}inbox.{region}" for region in REGIONS]
        self._consumer = new_consumer(
            settings.kafka, *topics, group_id=None, enable_auto_commit=False,
            auto_offset_reset="earliest", isolation_level="read_committed",
        )  # fmt: skip
        self.seen: dict[str, tuple[float, float]] = {}  # event id -> (sent, readable), epoch s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="stage-probe", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            for records in self._consumer.poll(timeout_ms=100).values():
                readable = time.time()
                for record in records:
                    event_id = dict(record.headers).get("event_id", b"").decode()
                    self.seen[event_id] = (record.timestamp / 1000, readable)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._consumer.close()


def latency(base: Settings, rate: float, seconds: float, stages: bool = False) -> dict[str, Any]:
    run = Run(base, "lat")
    probe: StageProbe | None = None
    try:
        run.services()
        if stages:
            probe = StageProbe(run.settings)
        per_region = rate / len(REGIONS)
        cases = max(1, int(per_region * seconds / 5))
        cpu_before, started = cpu_times(), time.monotonic()
        simulators = [
            run.spawn(f"{region}-simulate", "simulate", "--region", region, "--cases",
                      str(cases), "--partner", partner, "--seed", str(n), "--rate",
                      str(per_region))
            for n, (region, partner) in enumerate(REGIONS.items())
        ]  # fmt: skip
        for simulator in simulators:
            simulator.wait()
        cpu_after, span = cpu_times(), time.monotonic() - started
        wait_until_mirrored(run, simulators, 300)
        figures: dict[str, Any] = {"target_rate": rate}
        by_region = {region: event_times(run, region) for region in REGIONS}
        times = [t for region_times in by_region.values() for t in region_times]
        pooled = sorted(applied - occurred for _, occurred, applied in times)
        figures["events"] = len(pooled)
        figures.update(percentiles(pooled))
        figures["max_ms"] = round(1000 * pooled[-1], 1)
        span_recorded = max(
            max(o for _, o, _ in region_times) - min(o for _, o, _ in region_times)
            for region_times in by_region.values()
        )
        figures["achieved_rate"] = round(len(pooled) / span_recorded) if span_recorded else None
        # Cores kept busy while the simulators ran: the machine's, and the brokers' and
        # PostgreSQL's share of it (the rest: casesync's processes and the simulators).
        figures["cores_busy"] = {
            who: round((cpu_after[key] - cpu_before[key]) / span, 2)
            for who, key in (("machine", "busy"), ("brokers", "broker"), ("postgres", "postgres"))
        }
        if probe is not None:
            probe.close()
            figures["stages"] = stage_figures(times, probe.seen)
            probe = None
        return figures
    finally:
        if probe is not None:
            probe.close()
        run.stop()


def percentiles(sorted_s: list[float]) -> dict[str, float]:
    """p50, p90, p99 and p999 of ``sorted_s`` (seconds, sorted) in ms."""
    return {
        f"{name}_ms": round(1000 * sorted_s[min(len(sorted_s) - 1, int(q * len(sorted_s)))], 1)
        for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999))
    }


def stage_figures(
    times: list[tuple[str, float, float]], seen: dict[str, tuple[float, float]]
) -> dict[str, Any]:
    """Percentiles of each stage of the events the probe saw."""
    stages: dict[str, list[float]] = {"relay": [], "broker": [], "consumer": []}
    for event_id, occurred, applied in times:
        if event_id in seen:
            sent, readable = seen[event_id]
            stages["relay"].append(sent - occurred)
            stages["broker"].append(readable - sent)
            stages["consumer"].append(applied - readable)
    figures: dict[str, Any] = {"events": len(stages["relay"])}
    for stage, values in stages.items():
        if values:
            figures[stage] = percentiles(sorted(values))
    return figures


def event_times(run: Run, region: str) -> list[tuple[str, float, float]]:
    """(event id, occurred, applied) of each event in ``region``'s mirror, in epoch seconds."""
    conn = connect(run.settings.region_database_url(region))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT event_id::text, extract(epoch FROM occurred_at),"
                        " extract(epoch FROM applied_at) FROM mirror_history")  # fmt: skip
            return [(event_id, float(o), float(a)) for event_id, o, a in cur.fetchall()]
    finally:
        conn.close()


def measure(
    base: Settings, args: argparse.Namespace, unsigned: bool = False, warm_up: bool = False
) -> dict[str, Any]:
    """Latency at ``--rate``, then (unless ``--latency-only``) throughput, on ``base``'s broker;
    ``unsigned``: throughput once more with signing off; ``warm_up``: a quarter of the
    throughput run and a latency run first, not measured, for brokers just started."""
    if warm_up:
        # Brokers just started spend their first minute compiling (all of both cores with three
        # of them): latency measured then is the JIT's, not the cluster's (p50 ~600 ms seen).
        print("warming the brokers up ...", file=sys.stderr)
        throughput(base, max(1000, args.events // 4))
        # Flat out is not the paths a steady trickle takes: after it alone the brokers' C2
        # compiler still took 0.45 of their 0.85 cores through the measured latency run.
        latency(base, args.rate, args.seconds)
    print(f"end-to-end latency at {args.rate:g} events/s on {base.kafka} ...", file=sys.stderr)
    lat = latency(base, args.rate, args.seconds, args.stages)
    cores = lat["cores_busy"]
    print(f"  p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms over {lat['events']:,} events;"
          f" cores busy: machine {cores['machine']}, brokers {cores['brokers']},"
          f" PostgreSQL {cores['postgres']}", file=sys.stderr)  # fmt: skip
    for stage, figures in lat.get("stages", {}).items():
        if stage != "events":
            print(f"    {stage:8} p50 {figures['p50_ms']:7.1f} ms, p99 {figures['p99_ms']:7.1f} ms",
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
    parser.add_argument(
        "--stages",
        action="store_true",
        help="split latency into relay, broker and consumer with a probe",
    )
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
    results: dict[str, Any] = {
        **measure(base, args, args.unsigned),
        "relay_linger_ms": base.relay_linger_ms,  # what the regions' relays ran with
        "machine": machine(),
    }
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
