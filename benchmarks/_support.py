"""Shared set-up for the benchmarks: a fresh region database, fresh topics, the machine."""

from __future__ import annotations

import json
import os
import platform
import statistics
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient

from casesync.adapters.postgres import connect, ensure_database
from casesync.settings import Settings
from consumers.schema import migrate_region


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


def fresh_region_database(settings: Settings, label: str) -> str:
    """A new, migrated region database; its URL."""
    url = settings.region_database_url(f"bench_{label}_{uuid.uuid4().hex[:6]}")
    ensure_database(url)
    conn = connect(url)
    try:
        migrate_region(conn)
    finally:
        conn.close()
    return url


def fresh_topic(settings: Settings, label: str, partitions: int = 6) -> str:
    name = f"casesync.bench.{label}.{uuid.uuid4().hex[:6]}"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        admin.create_topics(
            {name: {"num_partitions": partitions, "replication_factor": 1}},
            wait_for_metadata=True,
        )
    finally:
        admin.close()
    return name


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def write_json(path: str | None, payload: dict[str, Any]) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=2, ensure_ascii=False))
