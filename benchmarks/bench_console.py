"""The ops console with four regions live: its data endpoint's latency and its CPU share.

    .venv/bin/python benchmarks/bench_console.py [--seconds 60] [--interval 5] [--json FILE]

The demo's four regions (苏州 320500 ↔ 银川 640100, 如东 320623 ↔ 桐乡 330483), each a
``casesync run`` process on a fresh database and topic prefix, each simulating cases toward its
partner at 20 events/s, and ``casesync ops console`` watching all four at its default sampling
interval. Once traffic flows, for ``--seconds``: the console's ``/api/state`` is fetched twice a
second (a page polls every 2 s: this is four pages), each answer timed; the console process's
CPU seconds (utime + stime, /proc) are read at both ends. The bar: median < 200 ms, < 5% of one
core.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from _support import machine, median, scratch_database, scratch_topics, write_json

from casesync.cli.region import init_region
from casesync.cli.run import service_ready
from casesync.settings import Settings
from infra.paths import free_ports

PAIRS = (("320500", "640100"), ("640100", "320500"), ("320623", "330483"), ("330483", "320623"))


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fetch_ms(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - our own http URL
        answer.read()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=5.0, help="the console's sampling")
    parser.add_argument("--json", help="write the result here too")
    args = parser.parse_args()

    base = Settings.from_env()
    run = uuid.uuid4().hex[:6]
    url = base.database_url.rpartition("/")[0] + f"/bench_console_{run}_{{region}}"
    env = {**os.environ, **base.kafka.environment(), "CASESYNC_DATABASE_URL": url,
           "CASESYNC_TOPIC_PREFIX": f"casesync.bench.console{run}."}  # fmt: skip
    settings = Settings.from_env(env)
    scratch_topics(settings.kafka, settings.topic_prefix)
    logs = Path(".run") / "bench-console" / run
    logs.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen[bytes]] = []

    def spawn(name: str, *command: str) -> subprocess.Popen[bytes]:
        with (logs / f"{name}.log").open("wb") as sink:
            process = subprocess.Popen([sys.executable, "-m", "casesync", "--log-json", *command],
                                       env=env, stdout=sink, stderr=sink)  # fmt: skip
        processes.append(process)
        return process

    try:
        for region, _ in PAIRS:
            scratch_database(settings.region_database_url(region))
            init_region(settings, region)
            spawn(f"{region}-run", "run", "--region", region)
        deadline = time.monotonic() + 180
        while not all(service_ready(logs / f"{r}-run.log") for r, _ in PAIRS):
            if time.monotonic() > deadline:
                raise SystemExit(f"region services not ready; see {logs}")
            time.sleep(1)
        for n, (region, partner) in enumerate(PAIRS):
            spawn(f"{region}-simulate", "simulate", "--region", region, "--cases", "2000",
                  "--rate", "20", "--partner", partner, "--seed", str(n))  # fmt: skip
        port = free_ports()
        watched = [arg for region, _ in PAIRS for arg in ("--region", region)]
        console = spawn("console", "ops", "console", "--port", str(port),
                        "--interval", str(args.interval), *watched)  # fmt: skip
        endpoint = f"http://127.0.0.1:{port}/api/state"
        time.sleep(3 * args.interval)  # started, sampled, traffic flowing
        timings: list[float] = []
        cpu_before, started = cpu_seconds(console.pid), time.monotonic()
        while time.monotonic() - started < args.seconds:
            timings.append(fetch_ms(endpoint))
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        cpu_share = (cpu_seconds(console.pid) - cpu_before) / elapsed
        with urllib.request.urlopen(endpoint, timeout=10) as answer:
            size = len(answer.read())
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    result: dict[str, Any] = {
        "benchmark": "console",
        "machine": machine(),
        "regions": len(PAIRS),
        "sampling_interval_s": args.interval,
        "requests": len(timings),
        "endpoint_median_ms": round(median(timings), 2),
        "endpoint_p99_ms": round(sorted(timings)[int(len(timings) * 0.99) - 1], 2),
        "endpoint_bytes": size,
        "console_cpu_share_of_one_core": round(cpu_share, 4),
        "seconds": round(elapsed, 1),
    }
    print(f"/api/state with {len(PAIRS)} regions live: median {result['endpoint_median_ms']} ms, "
          f"p99 {result['endpoint_p99_ms']} ms over {len(timings)} requests ({size} bytes); "
          f"console CPU {cpu_share * 100:.1f}% of one core "
          f"(sampling every {args.interval} s)")  # fmt: skip
    write_json(args.json, result)


if __name__ == "__main__":
    main()
