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
from kafka import errors as kafka_errors
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
    existing = set(admin.list_topics())
    missing = [name for name in wanted if name not in existing]
    created: list[str] = []
    for start in range(0, len(missing), CREATE_BATCH):
        batch = missing[start : start + CREATE_BATCH]
        created.extend(_create_batch(admin, {name: wanted[name] for name in batch}))
    if created:
        log.info("topics created", topics=created if len(created) <= 20 else len(created))
    return created


# Topics per CreateTopics request: thousands of regions' inboxes are made in seconds, not one
# round trip (and one metadata wait) each.
CREATE_BATCH = 100


def _create_batch(admin: KafkaAdminClient, specs: dict[str, dict[str, Any]]) -> list[str]:
    """Create ``specs`` in one request; a topic a concurrent creator made first is skipped, any
    other refusal raised. Returns the names created, once each has a leader."""
    answer = admin.create_topics(specs, raise_errors=False)
    created = []
    for topic in answer["topics"]:
        error = kafka_errors.for_code(topic["error_code"])
        if error is kafka_errors.NoError:
            created.append(topic["name"])
        elif error is not TopicAlreadyExistsError:
            raise error(topic.get("error_message") or topic["name"])
    if created:
        admin.wait_for_topics(created, timeout_ms=60_000)
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
