"""Shared set-up for the benchmarks: a fresh region database, fresh topics, the machine.

Every database and topic a benchmark makes is removed when its process exits or is told to stop
(SIGINT, SIGTERM; not SIGKILL): a run writes hundreds of megabytes, and repeated runs used to fill
the disk.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import itertools
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from casesync.adapters.postgres import connect, drop_database, ensure_database
from casesync.adapters.topics import delete_topics_with_prefix, ensure_topics
from casesync.domain.loading import shipped_catalogue
from casesync.settings import KafkaAccess, Settings, TopicSettings, redact_url
from casesync.trust.federation import LocalFederation
from casesync.trust.headers import Header
from casesync.trust.keys import SigningKey
from casesync.trust.records import facts_from_record
from casesync.trust.signing import sign_batch
from casesync.trust.tree import RecordFacts
from consumers.schema import migrate_region
from producers.app import build_recorder, record_in_batches
from producers.simulation import Simulation


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


_scratch_databases: list[str] = []
_scratch_topics: list[tuple[KafkaAccess, str]] = []  # (broker, name prefix)


def scratch_database(url: str) -> str:
    """Drop the database of ``url`` when this process exits; returns ``url``."""
    _remove_scratch_at_exit()
    _scratch_databases.append(url)
    return url


def scratch_topics(kafka: KafkaAccess, prefix: str) -> str:
    """Delete the topics named ``prefix*`` when this process exits; returns ``prefix``."""
    _remove_scratch_at_exit()
    _scratch_topics.append((kafka, prefix))
    return prefix


@functools.cache
def _remove_scratch_at_exit() -> None:
    atexit.register(_remove_scratch)  # once (cached)
    # SIGTERM (``timeout``, a CI runner) would otherwise end the process without exit handlers.
    # Not sys.exit: it would wait for the benchmark's own threads, which may never end.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _remove_scratch_and_exit)


def _remove_scratch_and_exit(signum: int, frame: object) -> None:
    _remove_scratch()
    os._exit(128 + signum)


def _remove_scratch() -> None:
    # Best effort, one at a time: a benchmark that failed because a server went away has
    # said so already.
    removals = [functools.partial(drop_database, url) for url in _scratch_databases] + [
        functools.partial(delete_topics_with_prefix, *topics) for topics in _scratch_topics
    ]
    for remove in removals:
        try:
            remove()
        except Exception as e:  # noqa: BLE001 - leave this one; the run's own result stands
            left = redact_url(str(remove.args[-1]))  # a database URL, or a topic prefix
            print(f"(left behind: {left}: {e})", file=sys.stderr)


def fresh_region_database(settings: Settings, label: str) -> str:
    """A new, migrated region database; its URL."""
    url = scratch_database(settings.region_database_url(f"bench_{label}_{uuid.uuid4().hex[:6]}"))
    ensure_database(url)
    conn = connect(url)
    try:
        migrate_region(conn)
    finally:
        conn.close()
    return url


def record_changes(
    url: str,
    region: str,
    events: int,
    *,
    cases: int,
    seed: int,
    partners: Sequence[str] = (),
    batch_size: int = 1000,
) -> float:
    """Record ``events`` simulated changes of ``cases`` cases of ``region`` into the region
    database at ``url``, ``batch_size`` to a transaction; the recording rate (events/s)."""
    simulation = Simulation(shipped_catalogue(), region, seed=seed)
    planned = simulation.plan(cases, datetime.now(UTC).date(), partners=list(partners))
    changes = itertools.islice(simulation.changes(planned, datetime), events)
    conn = connect(url)
    started, done = time.perf_counter(), 0
    try:
        for recorded in record_in_batches(conn, build_recorder(region), changes, batch_size):
            done = recorded
    finally:
        conn.close()
    return done / (time.perf_counter() - started)


def fresh_topic(settings: Settings, label: str, partitions: int = 6) -> str:
    """A new topic of ``partitions`` partitions; its name."""
    name = scratch_topics(settings.kafka, f"casesync.bench.{label}.{uuid.uuid4().hex[:6]}")
    ensure_topics(settings.kafka, TopicSettings(partitions=partitions), [name])
    return name


def cpu_times() -> dict[str, float]:
    """CPU seconds used so far (Linux /proc), by who: ``this`` process, ``postgres`` (every
    server process), ``broker`` (java processes), and the machine's ``busy`` and ``kernel``
    totals (kernel time is part of each process's figure too)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"this": 0.0, "postgres": 0.0, "broker": 0.0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue  # ended meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if int(pid) == os.getpid():
            used["this"] += seconds
        elif name.startswith("postgres"):
            used["postgres"] += seconds
        elif name == "java":
            used["broker"] += seconds
    cpu = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    system, idle, iowait, irq, softirq = cpu[2:7]  # after user and nice
    used["busy"] = (sum(cpu[:8]) - idle - iowait) / tick
    used["kernel"] = (system + irq + softirq) / tick
    return used


def cpu_per_event(
    before: dict[str, float], after: dict[str, float], events: int
) -> dict[str, float]:
    """Microseconds of CPU per event between two ``cpu_times``, by who."""
    return {who: round((after[who] - before[who]) / events * 1e6, 1) for who in before}


class Stopwatch:
    """Wraps a stage of a part (the relay's signer, the consumer's verify step) and sums the
    time spent inside it: ``seconds`` of wall clock, ``cpu_seconds`` of the calling thread's CPU.
    Its share of the part's elapsed time is what the stage costs the part, measured in the same
    run as the part's rate (no second run to compare with, so none of the machine's drift
    between runs)."""

    def __init__(self, stage: Callable[..., Any]) -> None:
        self._stage = stage
        self.seconds = 0.0
        self.cpu_seconds = 0.0

    def __call__(self, *args: Any) -> Any:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return self._stage(*args)
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu_seconds += time.thread_time() - cpu

    def per_event(self, events: int, elapsed: float) -> StageTime:
        """The time inside the stage over a run of ``events`` that took ``elapsed`` seconds."""
        return StageTime(self.seconds / events * 1e6, self.cpu_seconds / events * 1e6,
                         self.seconds / elapsed)  # fmt: skip


class StageTime(NamedTuple):
    """A stage's time in one run: wall and CPU µs an event, and its share of the run's time."""

    us_per_event: float
    cpu_us_per_event: float
    share: float


NOT_TIMED = StageTime(0.0, 0.0, 0.0)  # a run without the stage


def stage_figures(stage: str, runs: Sequence[StageTime]) -> dict[str, Any]:
    """A benchmark's figures for ``stage`` over the runs that timed it: medians, and each run's
    share."""
    return {
        f"{stage}_us_per_event": round(median([r.us_per_event for r in runs]), 2),
        f"{stage}_cpu_us_per_event": round(median([r.cpu_us_per_event for r in runs]), 2),
        f"{stage}_share": round(median([r.share for r in runs]), 4),
        f"{stage}_share_rounds": [round(r.share, 4) for r in runs],
    }


def header_bytes(headers: Iterable[tuple[str, bytes]]) -> int:
    """Bytes ``headers`` take in a Kafka record (v2): a length varint and the bytes of each
    name and value."""
    return sum(_varint_size(len(n.encode())) + len(n.encode()) + _varint_size(len(v)) + len(v)
               for n, v in headers)  # fmt: skip


def _varint_size(n: int) -> int:
    # Kafka's record lengths are zigzag varints: 7 bits a byte after doubling.
    return max(1, ((n << 1).bit_length() + 6) // 7)


def local_federation(label: str, regions: Iterable[str]) -> LocalFederation:
    """Keys for ``regions`` and a manifest listing them, in a folder removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix=f"casesync-bench-{label}-"))
    atexit.register(shutil.rmtree, folder, True)
    return LocalFederation.create(folder, regions)


# A record as the relay sends it: key, value, routing headers.
Message = tuple[bytes, bytes, list[tuple[str, bytes]]]


def outbox_messages(url: str, source: str, target: str) -> list[Message]:
    """The outbox of ``source``'s database at ``url``, as the relay sends it to ``target``: each
    row's key, payload and the relay's routing headers, in outbox order."""
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT case_id, event_id::text, event_type, payload FROM outbox ORDER BY id"
            )
            rows = cur.fetchall()
    finally:
        conn.close()
    return [
        (case_id.encode(), bytes(payload), [
            ("event_id", event_id.encode()), ("event_type", event_type.encode()),
            ("fingerprint", bytes(payload[2:10]).hex().encode()),
            ("source_region", source.encode()), ("target_region", target.encode()),
        ])
        for case_id, event_id, event_type, payload in rows
    ]  # fmt: skip


def signed_facts(messages: Sequence[Message], target: str) -> list[RecordFacts]:
    """What a signature covers of each of ``messages``, sent to ``target``'s inbox."""
    return [facts_from_record(key, value, headers, target) for key, value, headers in messages]


RELAY_BATCH = 5000  # records the relay reads and signs together (in trees of up to 256)


def relay_signatures(facts: Sequence[RecordFacts], key: SigningKey) -> list[Header]:
    """The signature header the relay gives each record of ``facts``, in order: signed by
    ``key`` in the relay's batches of ``RELAY_BATCH``."""
    headers: list[Header] = []
    for start in range(0, len(facts), RELAY_BATCH):
        headers.extend(sign_batch(facts[start : start + RELAY_BATCH], key, datetime.now(UTC)))
    return headers


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def write_json(path: str | None, payload: dict[str, Any]) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=2, ensure_ascii=False))


@contextlib.contextmanager
def three_node_cluster(first_port: int, folder: Path) -> Iterator[Settings]:
    """A secured three-node cluster of its own (``folder``, ports ``first_port`` to
    ``first_port + 5``), started for the measurement and stopped after it; yields the settings
    of the current process pointed at it, with RF 3 / min ISR 2 topics."""
    from infra.kafka.launcher import KafkaLauncher

    previous = os.environ.get("CASESYNC_RUN_DIR")
    os.environ["CASESYNC_RUN_DIR"] = str(folder.resolve())  # where the launcher keeps the nodes
    cluster = KafkaLauncher(port=first_port, controller_port=first_port + 1, nodes=3)
    try:
        began = time.monotonic()
        cluster.start(timeout=180.0)
        print(f"  three nodes ready in {time.monotonic() - began:.0f} s", file=sys.stderr)
        access = cluster.access
        base = Settings.from_env()
        # Replicated as three nodes want, partitioned as asked (CASESYNC_TOPIC_PARTITIONS).
        yield dataclasses.replace(
            base, kafka_bootstrap=access.bootstrap, kafka_security=access.security,
            topics=base.topics.replicated_for(3), kafka_overridden=True,
        )  # fmt: skip
    finally:
        cluster.stop()
        # Its topics go with its data: nothing is left for the clean-up at exit to reach.
        _scratch_topics[:] = [t for t in _scratch_topics if t[0].bootstrap != cluster.bootstrap]
        shutil.rmtree(folder / "kafka", ignore_errors=True)
        if previous is None:
            os.environ.pop("CASESYNC_RUN_DIR", None)
        else:
            os.environ["CASESYNC_RUN_DIR"] = previous
