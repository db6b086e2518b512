"""Topic names and idempotent topic administration from settings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import structlog
from kafka import KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError

from casesync.settings import TopicSettings

log = structlog.get_logger(__name__)

SCHEMA_TOPIC = "casesync.schemas"
EVENTS_PREFIX = "casesync.events."
DLQ_PREFIX = "casesync.dlq."


def events_topic(region: str) -> str:
    """The topic a region publishes its case events to; only that region writes there."""
    return f"{EVENTS_PREFIX}{region}"


def dlq_topic(region: str) -> str:
    """The dead-letter topic of a region's consumer."""
    return f"{DLQ_PREFIX}{region}"


def region_of_topic(topic: str) -> str | None:
    """The source region an events topic belongs to, or None for other topics."""
    return topic[len(EVENTS_PREFIX) :] if topic.startswith(EVENTS_PREFIX) else None


def _topic_spec(settings: TopicSettings, *, compacted: bool = False) -> dict[str, Any]:
    configs = {"min.insync.replicas": str(settings.min_insync_replicas)}
    if compacted:
        configs["cleanup.policy"] = "compact"
    else:
        configs["retention.ms"] = str(settings.retention_ms)
    return {
        "num_partitions": 1 if compacted else settings.partitions,
        "replication_factor": settings.replication_factor,
        "configs": configs,
    }


def ensure_topics(bootstrap: str, settings: TopicSettings, regions: Iterable[str]) -> list[str]:
    """Create the schema topic and each region's events and DLQ topics if missing.

    Returns the names created now; existing topics are left as they are.
    """
    wanted = {SCHEMA_TOPIC: _topic_spec(settings, compacted=True)}
    for region in regions:
        wanted[events_topic(region)] = _topic_spec(settings)
        wanted[dlq_topic(region)] = _topic_spec(settings)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    created = []
    try:
        existing = set(admin.list_topics())
        for name, spec in wanted.items():
            if name in existing:
                continue
            try:  # one by one: a concurrent creator must not fail the others
                admin.create_topics({name: spec}, wait_for_metadata=True)
                created.append(name)
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()
    if created:
        log.info("topics created", topics=created)
    return created
