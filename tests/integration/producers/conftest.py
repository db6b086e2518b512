"""Fixtures for the producer side: a migrated region database, a unique topic prefix, readers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from kafka import TopicPartition

from casesync.adapters.kafka_clients import new_consumer
from casesync.adapters.postgres import connect
from casesync.adapters.topics import TopicNames, ensure_topics
from casesync.domain.events import Applicant
from casesync.domain.vocabulary import ApplicantKind, EventType, HandlingMode
from casesync.testing import TEST_TOPICS, Services
from casesync.testing_trust import TestTrust
from consumers.schema import migrate_region
from producers.app import build_recorder, record_committed
from producers.changes import CaseChange
from producers.recorder import CaseRecorder

RUDONG, TONGXIANG = "320623", "330483"
HOUSING_WITHDRAWAL = "002023002000"  # 购房提取住房公积金, shared by Rudong and Tongxiang
LIFE = (
    EventType.CASE_SUBMITTED, EventType.CASE_ACCEPTED, EventType.REVIEW_STARTED,
    EventType.CASE_APPROVED, EventType.RESULT_DELIVERED,
)  # fmt: skip


@dataclass
class SourceRegion:
    """Rudong's database, its recorder and Tongxiang's inbox (where its cases go), private to
    one test."""

    url: str
    names: TopicNames
    services: Services
    recorder: CaseRecorder
    trust: TestTrust

    @property
    def topic(self) -> str:
        return self.names.inbox(TONGXIANG)

    def record(self, changes: list[CaseChange]) -> None:
        record_committed(self.recorder, self.url, changes)

    def scalar(self, query: str) -> int:
        conn = connect(self.url)
        try:
            with conn.cursor() as cur:
                cur.execute(query)
                row = cur.fetchone()
                return int(row[0]) if row else 0
        finally:
            conn.close()

    def relay_process(self, *extra: str) -> subprocess.Popen[bytes]:
        """``casesync relay`` as its own process, pointed at this test's database and topics."""
        env = {
            **os.environ,
            **self.services.kafka.environment(),
            "CASESYNC_DATABASE_URL": self.url,
            "CASESYNC_TOPIC_PREFIX": self.names.prefix,
        }
        return subprocess.Popen(
            [sys.executable, "-m", "casesync", "--log-json", "relay", "--region", RUDONG, *extra],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip

    def read_topic(self) -> list[tuple[int, int, bytes, bytes, dict[str, bytes]]]:
        """Every record of Tongxiang's inbox: (partition, offset, key, value, headers)."""
        consumer = new_consumer(self.services.kafka, enable_auto_commit=False)
        try:
            partitions = [
                TopicPartition(self.topic, p)
                for p in sorted(consumer.partitions_for_topic(self.topic) or ())
            ]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            end = consumer.end_offsets(partitions)
            out = []
            while any(consumer.position(tp) < end[tp] for tp in partitions):
                for records in consumer.poll(timeout_ms=1000).values():
                    out.extend(
                        (r.partition, r.offset, r.key, r.value, dict(r.headers)) for r in records
                    )
            return sorted(out, key=lambda r: (r[0], r[1]))
        finally:
            consumer.close()


def new_case(case_id: str, at: datetime | None = None) -> CaseChange:
    """A Rudong housing-provident-fund withdrawal case shared with Tongxiang."""
    return CaseChange(
        case_id, EventType.CASE_SUBMITTED, 0, at or datetime.now(UTC),
        item_code=HOUSING_WITHDRAWAL, handling_mode=HandlingMode.FULLY_ONLINE,
        applicant=Applicant(ApplicantKind.PERSON, "王芳", id_number="330483199001011234"),
        target_regions=(TONGXIANG,),
    )  # fmt: skip


def next_change(case_id: str, step: int) -> CaseChange:
    """The ``step``-th change (1-based) of a case on the happy path."""
    return CaseChange(case_id, LIFE[step], step, datetime.now(UTC))


@pytest.fixture
def source_region(
    casesync_services: Services,
    database_factory: Callable[[str], str],
    unique_name: Callable[[str], str],
    casesync_trust: TestTrust,
) -> SourceRegion:
    """Rudong with a fresh migrated database and topics under a prefix no other test uses."""
    url = database_factory("rudong")
    conn = connect(url)
    try:
        migrate_region(conn)
    finally:
        conn.close()
    names = TopicNames(unique_name("t") + ".")
    ensure_topics(casesync_services.kafka, TEST_TOPICS, [names.inbox(TONGXIANG)],
                  compacted=[names.schemas])  # fmt: skip
    return SourceRegion(url, names, casesync_services, build_recorder(RUDONG), casesync_trust)
