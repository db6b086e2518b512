"""Topic and group names of a region's consumer, under one prefix.

The default prefix gives exactly ``casesync.adapters.topics``' names; another prefix keeps a test
run or a staging deployment apart from everyone else's topics on a shared broker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import structlog
from kafka import KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError

from casesync.settings import TopicSettings

log = structlog.get_logger(__name__)

DEFAULT_PREFIX = "casesync."


@dataclass(frozen=True, slots=True)
class TopicNames:
    """Names derived from one prefix."""

    prefix: str = DEFAULT_PREFIX

    def events(self, region: str) -> str:
        """The topic ``region`` publishes its case events to."""
        return f"{self.prefix}events.{region}"

    def dlq(self, region: str) -> str:
        """The dead-letter topic of ``region``'s consumer."""
        return f"{self.prefix}dlq.{region}"

    def group(self, region: str) -> str:
        """The consumer group of ``region``'s consumer processes."""
        return f"{self.prefix}consumer.{region}"

    def region_of(self, topic: str) -> str | None:
        """The source region of an events topic under this prefix, or None."""
        head = f"{self.prefix}events."
        return topic[len(head) :] if topic.startswith(head) else None


def ensure_topics(bootstrap: str, settings: TopicSettings, names: Iterable[str]) -> list[str]:
    """Create the (non-compacted) topics that are missing; return the names created."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    created = []
    try:
        existing = set(admin.list_topics())
        for name in names:
            if name in existing:
                continue
            spec = {
                "num_partitions": settings.partitions,
                "replication_factor": settings.replication_factor,
                "configs": {
                    "min.insync.replicas": str(settings.min_insync_replicas),
                    "retention.ms": str(settings.retention_ms),
                },
            }
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
