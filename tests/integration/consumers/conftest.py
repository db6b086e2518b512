"""Factories for consumer integration tests: region databases, a source region that records
cases and relays its outbox to Kafka, and consumers wired exactly as the CLI wires them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg2
import pytest

from casesync.adapters.kafka_clients import new_producer
from casesync.adapters.postgres import connect, transaction
from casesync.adapters.schema_topic import KafkaSchemaSource
from casesync.adapters.topics import TopicNames, ensure_topics
from casesync.contract.codec import CaseEventCodec, case_event_codec
from casesync.domain.events import Applicant, CaseEvent
from casesync.domain.holidays import shipped_calendar
from casesync.domain.loading import shipped_catalogue
from casesync.domain.vocabulary import ApplicantKind, EventType, HandlingMode
from casesync.settings import Settings, TopicSettings
from casesync.testing import Services
from casesync.testing_trust import Record, TestTrust
from consumers import digest
from consumers.compose import ConsumerOptions, build_consumer, plan_consumer
from consumers.records import SOURCE_HEADER, TARGET_HEADER
from consumers.runner import RegionConsumer
from consumers.schema import migrate_region
from producers.app import record_committed
from producers.changes import CaseChange
from producers.recorder import CaseRecorder

RUDONG = "320623"
TONGXIANG = "330483"
HOUSING_WITHDRAWAL = "002023002000"  # 购房提取住房公积金, shared Rudong–Tongxiang (and national)
MEDICAL_TRANSFER = "002033003000"  # 基本医疗保险关系转移接续
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
LIFE = (
    EventType.CASE_SUBMITTED,
    EventType.CASE_ACCEPTED,
    EventType.REVIEW_STARTED,
    EventType.CASE_APPROVED,
    EventType.RESULT_DELIVERED,
)


@dataclass
class Region:
    """One region's database and the recorder of its own cases."""

    code: str
    url: str
    recorder: CaseRecorder
    names: TopicNames

    def record(self, changes: Sequence[CaseChange]) -> list[CaseEvent]:
        """Record own changes in one transaction, as the regional system would."""
        return record_committed(self.recorder, self.url, changes)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one query on this region's database."""
        conn = psycopg2.connect(self.url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(statement, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def owned_digest(self) -> tuple[str, int]:
        """``casesync digest --owned`` of this region."""
        conn = connect(self.url)
        try:
            with transaction(conn) as cur:
                return digest.owned(cur)
        finally:
            conn.close()

    def mirror_digest(self, source: str) -> tuple[str, int]:
        """``casesync digest --mirror-of source`` of this region."""
        conn = connect(self.url)
        try:
            with transaction(conn) as cur:
                return digest.mirror_of(cur, source)
        finally:
            conn.close()


@dataclass
class World:
    """Regions sharing one Kafka broker under a topic prefix of their own."""

    services: Services
    names: TopicNames
    codec: CaseEventCodec
    make_database: Callable[[str], str]
    trust: TestTrust
    regions: dict[str, Region] = field(default_factory=dict)
    inboxes: set[str] = field(default_factory=set)  # regions whose inbox exists

    def region(self, code: str) -> Region:
        """The region with its own fresh, migrated database."""
        if code not in self.regions:
            url = self.make_database(f"r{code}")
            conn = connect(url)
            try:
                migrate_region(conn)
            finally:
                conn.close()
            recorder = CaseRecorder(code, shipped_catalogue(), shipped_calendar(), self.codec)
            self.regions[code] = Region(code, url, recorder, self.names)
            ensure_topics(
                self.services.kafka,
                TopicSettings(partitions=6),
                [self.names.inbox(code), self.names.dlq(code)],
                compacted=[self.names.schemas],
            )
            self.inboxes.add(code)
        return self.regions[code]

    def open_inboxes(self, regions: Collection[str]) -> None:
        """Create the inboxes of ``regions`` not made yet (a target needs no database to be
        sent to: a national item goes to every region, most of which a test never runs)."""
        missing = sorted(set(regions) - self.inboxes)
        if missing:
            ensure_topics(
                self.services.kafka,
                TopicSettings(partitions=6),
                [self.names.inbox(r) for r in missing],
            )
            self.inboxes.update(missing)

    def settings(self, code: str) -> Settings:
        """Settings of a process of region ``code``."""
        return self.trust.apply_to(
            Settings(
                kafka_bootstrap=self.services.kafka.bootstrap,
                kafka_security=self.services.kafka.security,
                database_url=self.region(code).url,
                topic_prefix=self.names.prefix,
                kafka_overridden=True,
                database_overridden=True,
            )
        )

    def relay(self, code: str, limit: int | None = None) -> int:
        """Publish region ``code``'s unpublished outbox rows as its relay does: in outbox order,
        one record per target region to that region's inbox, through one producer; the rows are
        marked published once every record is acknowledged."""
        region = self.region(code)
        rows = region.query(
            "SELECT id, case_id, payload, target_regions FROM outbox WHERE published_at IS NULL"
            " ORDER BY id LIMIT %s",
            (limit,),
        )
        if not rows:
            return 0
        self.open_inboxes({t for *_, targets in rows for t in targets})
        records = [
            (self.names.inbox(target), case_id, bytes(payload), _routing(code, target))
            for _, case_id, payload, targets in rows
            for target in targets
        ]
        self._produce(records)
        region.query(
            "UPDATE outbox SET published_at = now() WHERE id = ANY(%s)", ([r[0] for r in rows],)
        )
        return len(rows)

    def deliver(
        self, source: str, target: str, messages: Sequence[tuple[str, bytes | None]]
    ) -> None:
        """Send (key, value) messages to ``target``'s inbox as ``source``'s relay would."""
        self.open_inboxes([target])
        self.send(self.names.inbox(target), messages, _routing(source, target))

    def send(
        self,
        topic: str,
        messages: Sequence[tuple[str, bytes | None]],
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        """Send (key, value) messages with ``headers`` to ``topic``; wait for the acks."""
        self._produce([(topic, key, value, list(headers)) for key, value in messages])

    def _produce(self, records: Sequence[tuple[str, str, bytes | None, list[Any]]]) -> None:
        """Send (topic, key, value, headers) records in order, each signed by the region its
        ``source_region`` header names (as that region's relay would; records without one go
        unsigned); wait for every ack."""
        self._sign(records)
        producer = new_producer(self.services.kafka, acks="all", linger_ms=5, batch_size=256 * 1024)
        try:
            for topic, key, value, headers in records:
                producer.send(topic, key=key.encode(), value=value, headers=headers)
            producer.flush()
        finally:
            producer.close()

    def _sign(self, records: Sequence[tuple[str, str, bytes | None, list[Any]]]) -> None:
        batches: dict[tuple[str, str], list[Record]] = {}
        for topic, key, value, headers in records:
            source = dict(headers).get(SOURCE_HEADER)
            target = dict(headers).get(TARGET_HEADER)
            if source is not None and target is not None and source.decode() in self.trust.keys:
                batch = batches.setdefault((source.decode(), target.decode()), [])
                batch.append((topic, key.encode(), value, headers))
        for (source, target), batch in batches.items():
            self.trust.sign(batch, source, target)

    def consumer(self, code: str, instance_id: str | None = None, **options: Any) -> RegionConsumer:
        """Region ``code``'s consumer, wired as ``casesync consume`` wires it."""
        opts = ConsumerOptions(region=code, instance_id=instance_id, **options)
        settings = self.settings(code)
        return build_consumer(settings, opts, plan_consumer(settings, opts))

    def consume(self, code: str, until_idle: float = 3.0, **options: Any) -> RegionConsumer:
        """Run region ``code``'s consumer until idle; return it (its ``stats`` say what it did)."""
        consumer = self.consumer(code, **options)
        consumer.run(threading.Event(), until_idle=until_idle)
        return consumer


@pytest.fixture
def world(
    casesync_services: Services,
    database_factory: Callable[[str], str],
    unique_name: Callable[[str], str],
    casesync_trust: TestTrust,
) -> World:
    """Regions on the real broker and server, isolated by a topic prefix of their own."""
    names = TopicNames(unique_name("t") + ".")
    codec = case_event_codec(remote=KafkaSchemaSource(casesync_services.kafka, names.schemas))
    return World(casesync_services, names, codec, database_factory, casesync_trust)


def _routing(source: str, target: str) -> list[tuple[str, bytes]]:
    """The headers naming a record's source and target region."""
    return [(SOURCE_HEADER, source.encode()), (TARGET_HEADER, target.encode())]


def person(n: int) -> Applicant:
    """An applicant with a made-up ID number."""
    return Applicant(ApplicantKind.PERSON, f"申请人{n}", id_number=f"3206231990{n:08d}")


def housing_cases(first: int, count: int, steps: int = len(LIFE)) -> list[CaseChange]:
    """``count`` housing-fund withdrawals for Tongxiang, each through its first ``steps``
    lifecycle events, interleaved across cases (the order a busy region records them in)."""
    changes = []
    for step in range(steps):
        for n in range(first, first + count):
            changes.append(
                CaseChange(
                    case_id=f"{RUDONG}-2026-{n:07d}",
                    event_type=LIFE[step],
                    expected_version=step,
                    occurred_at=START + timedelta(seconds=n, minutes=step),
                    item_code=HOUSING_WITHDRAWAL if step == 0 else None,
                    handling_mode=HandlingMode.FULLY_ONLINE if step == 0 else None,
                    applicant=person(n) if step == 0 else None,
                    # Shared with Tongxiang alone: the item is also on the national list, and
                    # sending every case to all 27 other inboxes made these tests minutes long.
                    target_regions=(TONGXIANG,) if step == 0 else None,
                )
            )
    return changes
