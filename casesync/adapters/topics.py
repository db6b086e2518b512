"""Topic and group names under one prefix, and idempotent topic administration from settings.

The default prefix ``casesync.`` gives ``casesync.inbox.<region>`` and friends; another prefix
(``CASESYNC_TOPIC_PREFIX``) keeps a test run or a staging deployment apart on a shared broker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from kafka import KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError

from casesync.adapters.reachability import kafka_admin
from casesync.settings import KafkaAccess, TopicSettings

log = structlog.get_logger(__name__)

DEFAULT_PREFIX = "casesync."


@dataclass(frozen=True, slots=True)
class TopicNames:
    """Names derived from one prefix."""

    prefix: str = DEFAULT_PREFIX

    @property
    def schemas(self) -> str:
        """The compacted log of writer schemas, keyed by fingerprint, shared by all regions."""
        return f"{self.prefix}schemas"

    @property
    def manifest(self) -> str:
        """The compacted log of signed federation manifests: the admin writes, every region
        reads."""
        return f"{self.prefix}manifest"

    def inbox(self, region: str) -> str:
        """The topic every event addressed to ``region`` arrives in; only ``region`` reads it."""
        return f"{self.prefix}inbox.{region}"

    def dlq(self, region: str) -> str:
        """The dead-letter topic of ``region``'s consumer."""
        return f"{self.prefix}dlq.{region}"

    def group(self, region: str) -> str:
        """The consumer group of ``region``'s consumer processes."""
        return f"{self.prefix}consumer.{region}"


def _topic_spec(settings: TopicSettings, *, compacted: bool) -> dict[str, Any]:
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


def ensure_topics(
    kafka: KafkaAccess,
    settings: TopicSettings,
    names: Iterable[str],
    compacted: Iterable[str] = (),
) -> list[str]:
    """Create the missing topics (``compacted`` ones with cleanup.policy=compact).

    Returns the names created now; existing topics are left as they are.
    """
    with kafka_admin(kafka) as admin:
        return create_missing_topics(admin, settings, names, compacted)


def create_missing_topics(
    admin: KafkaAdminClient,
    settings: TopicSettings,
    names: Iterable[str],
    compacted: Iterable[str] = (),
) -> list[str]:
    """``ensure_topics`` through an admin client the caller holds (and configured)."""
    wanted = {name: _topic_spec(settings, compacted=False) for name in names}
    wanted.update({name: _topic_spec(settings, compacted=True) for name in compacted})
    created = []
    existing = set(admin.list_topics())
    for name, spec in wanted.items():
        if name in existing:
            continue
        try:  # one by one: a concurrent creator must not fail the others
            admin.create_topics({name: spec}, wait_for_metadata=True)
            created.append(name)
        except TopicAlreadyExistsError:
            pass
    if created:
        log.info("topics created", topics=created)
    return created


def delete_topics_with_prefix(kafka: KafkaAccess, prefix: str) -> list[str]:
    """Delete every topic whose name starts with ``prefix``; returns their names.

    A prefix shorter than ``casesync.`` is refused: it could name every topic of the cluster.
    """
    if len(prefix) < len("casesync."):
        raise ValueError(f"topic prefix {prefix!r} is too short to delete by")
    with kafka_admin(kafka) as admin:
        doomed = [topic for topic in admin.list_topics() if topic.startswith(prefix)]
        if doomed:
            admin.delete_topics(doomed)
        return doomed


def existing_topics(kafka: KafkaAccess) -> set[str]:
    """The names of every topic the cluster shows this principal (Unreachable when no broker
    answers): a topic it may not describe looks absent."""
    with kafka_admin(kafka) as admin:
        return set(admin.list_topics())
