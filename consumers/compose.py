"""Composition root of a consumer process: everything built once, from the settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import structlog

from casesync.adapters.kafka_clients import new_consumer, new_producer
from casesync.adapters.postgres import connect, ensure_database
from casesync.adapters.schema_topic import KafkaSchemaSource
from casesync.adapters.topics import TopicNames, ensure_topics
from casesync.adapters.trust_anchor import trust_anchor
from casesync.contract.codec import case_event_codec
from casesync.domain.holidays import shipped_calendar
from casesync.domain.loading import shipped_catalogue
from casesync.domain.workdays import china_date
from casesync.errors import ConfigError
from casesync.metrics import Metrics
from casesync.settings import Settings
from consumers.applier import BatchApplier
from consumers.batching import BatchSizer
from consumers.database import Database
from consumers.dlq import DeadLetterPublisher
from consumers.observing import ConsumerMetrics
from consumers.reactions import Reactor
from consumers.runner import RegionConsumer
from consumers.schema import migrate_region
from consumers.triage import Triage
from consumers.verification import VerifyStep
from producers.recorder import CaseRecorder

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ConsumerOptions:
    """What the command line chooses for one consumer process."""

    region: str
    instance_id: str | None = None  # static group membership: a restart keeps the partitions
    agreements_on: date | None = None  # which agreements are in force; default today in China
    max_batch: int = 20_000


@dataclass(frozen=True, slots=True)
class ConsumerPlan:
    """The consumer's wiring decisions, computed without I/O."""

    region: str
    partners: tuple[str, ...]
    topics: tuple[str, ...]
    dlq_topic: str
    group_id: str
    schema_topic: str
    database_url: str


def plan_consumer(settings: Settings, options: ConsumerOptions) -> ConsumerPlan:
    """Which inbox, group and database a region's consumer uses (no I/O)."""
    catalogue = shipped_catalogue()
    on = options.agreements_on or china_date(datetime.now(UTC))
    partners = tuple(sorted(catalogue.partners_of(options.region, on=on)))
    if not partners:
        raise ConfigError(f"region {options.region} has no agreement in force with a partner")
    names = TopicNames(settings.topic_prefix)
    return ConsumerPlan(
        region=options.region,
        partners=partners,
        topics=(names.inbox(options.region),),
        dlq_topic=names.dlq(options.region),
        group_id=names.group(options.region),
        schema_topic=names.schemas,
        database_url=settings.region_database_url(options.region),
    )


def prepare(settings: Settings, plan: ConsumerPlan) -> None:
    """Create what the consumer needs if missing: database, tables, topics."""
    ensure_database(plan.database_url)
    conn = connect(plan.database_url)
    try:
        migrate_region(conn)
    finally:
        conn.close()
    ensure_topics(
        settings.kafka,
        settings.topics,
        (*plan.topics, plan.dlq_topic),
        compacted=(plan.schema_topic,),
    )


def verify_step(settings: Settings, region: str, *, topic: bool = True) -> VerifyStep | None:
    """The verify stage of ``region``'s apply code; None when signing is off (said in the log,
    never silently). ConfigError when it is on and no trust root is pinned."""
    if not settings.signing:
        log.warning("signing is off (CASESYNC_SIGNING=off): records are applied unverified",
                    region=region)  # fmt: skip
        return None
    anchor = trust_anchor(settings, topic=topic)
    # The manifest is read now, before the service says it is ready, not by the first record
    # (which then waited a second or more for the manifest topic's reader to connect).
    anchor.start()
    return VerifyStep(region, anchor)


def build_consumer(
    settings: Settings,
    options: ConsumerOptions,
    plan: ConsumerPlan,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    metrics: Metrics | None = None,
) -> RegionConsumer:
    """Wire one region's consumer (no I/O until it runs)."""
    catalogue = shipped_catalogue()
    kafka = settings.kafka
    codec = case_event_codec(remote=KafkaSchemaSource(kafka, plan.schema_topic))
    database = Database(plan.database_url)
    recorder = CaseRecorder(plan.region, catalogue, shipped_calendar(), codec)
    applier = BatchApplier(
        Triage(plan.region, catalogue, codec.decode, verify_step(settings, plan.region)),
        codec.decode,
        database,
        Reactor(recorder, catalogue, clock),
    )

    def kafka_consumer() -> Any:
        return new_consumer(
            kafka,
            group_id=plan.group_id,
            group_instance_id=options.instance_id,
            client_id=f"casesync-consumer-{plan.region}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=options.max_batch,
            fetch_max_bytes=64 * 1024 * 1024,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            # A member that joins before its client has the subscribed topics' partitions is
            # assigned nothing until the next metadata refresh; keep that wait short.
            metadata_max_age_ms=5_000,
        )

    def dlq_producer() -> Any:
        return new_producer(kafka, acks="all", linger_ms=5)

    control = Database(plan.database_url, application_name="casesync-consumer-control")
    return RegionConsumer(
        plan.topics,
        kafka_consumer,
        applier,
        control,
        DeadLetterPublisher(control, plan.dlq_topic, dlq_producer),
        BatchSizer(
            initial=min(1000, options.max_batch),
            minimum=min(50, options.max_batch),
            maximum=options.max_batch,
        ),
        None if metrics is None else ConsumerMetrics(metrics, plan.region),
    )
