"""The topics, principals and ACLs the agreements in force imply, created where missing.

One source decides which inboxes exist: ``region init``, ``access apply``, the test plugin's
regions and the demo all create what ``desired_access`` names. A national item is shared with
every region, so a relay can deliver one only once every region's inbox exists: creating just
the region's own inbox held such rows in the outbox until someone made all the others.

``provision_cluster`` is what ``region init`` and ``access apply`` share: as an administrator it
reconciles principals, topics and ACLs; against a broker without an authorizer (plaintext) it
creates topics only; as anyone else it raises ``AdminRefused`` before changing anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from typing import Any

from casesync.access.credentials import CredentialsFolder
from casesync.access.desired import desired_access
from casesync.access.errors import NoAuthorizer
from casesync.access.kafka_applier import AppliedAccess, ClusterAccess
from casesync.access.plan import plan_access
from casesync.adapters.reachability import kafka_admin
from casesync.adapters.topics import TopicNames, create_missing_topics, ensure_topics
from casesync.domain.catalogue import Catalogue
from casesync.settings import KafkaAccess, Settings, TopicSettings


@dataclass(frozen=True, slots=True)
class WantedTopicNames:
    """Topic names to create: plain ones (inboxes, dead letters) and compacted ones."""

    plain: tuple[str, ...]
    compacted: tuple[str, ...]


def wanted_topic_names(
    catalogue: Catalogue, names: TopicNames, on: date, regions: Iterable[str] = ()
) -> WantedTopicNames:
    """Every topic the agreements in force on ``on`` imply, plus the inbox and dead-letter topic
    of ``regions`` (a region in no agreement still reads its own inbox)."""
    topics = desired_access(catalogue, names, on).topics
    plain = [t.name for t in topics if not t.compacted]
    for region in regions:
        plain += [names.inbox(region), names.dlq(region)]
    compacted = [t.name for t in topics if t.compacted] or [names.schemas]
    return WantedTopicNames(tuple(dict.fromkeys(plain)), tuple(dict.fromkeys(compacted)))


def provision_topics(
    kafka: KafkaAccess,
    settings: TopicSettings,
    catalogue: Catalogue,
    names: TopicNames,
    on: date,
    regions: Iterable[str] = (),
) -> list[str]:
    """Create the topics of ``wanted_topic_names`` the cluster lacks; return those created."""
    wanted = wanted_topic_names(catalogue, names, on, regions)
    return ensure_topics(kafka, settings, wanted.plain, compacted=wanted.compacted)


@dataclass(frozen=True, slots=True)
class Provisioned:
    """What ``provision_cluster`` did on the broker."""

    applied: AppliedAccess | None  # None: not asked to apply, or a broker with no authorizer
    topics_created: tuple[str, ...]  # every topic created, by the plan or for ``regions``


def cluster_access(admin: Any, settings: Settings) -> ClusterAccess:
    """The access applier of ``settings``' cluster through ``admin``; new principals'
    credentials go to ``settings.secrets_dir``."""
    folder = CredentialsFolder(settings.secrets_dir)
    return ClusterAccess(admin, settings.kafka_bootstrap, settings.topics, folder)


def provision_cluster(
    settings: Settings,
    catalogue: Catalogue,
    on: date,
    regions: Iterable[str] = (),
    *,
    apply: bool = True,
) -> Provisioned:
    """Bring the cluster to what the agreements in force on ``on`` imply, as ``access apply``
    does (with ``apply`` false: their topics only, no principals or ACLs), and create the inbox
    and dead-letter topic of ``regions`` too; ``AdminRefused`` (nothing changed) when the client
    is no administrator.

    Steps: 1. read the cluster's ACLs and users, which only an administrator may: the check
    that comes before any change; 2. apply the plan (principals, topics, grants, revocations),
    when asked to;
    3. create what is still missing of ``regions``' own topics.
    """
    names = TopicNames(settings.topic_prefix)
    with kafka_admin(settings.kafka) as admin:
        access = cluster_access(admin, settings)
        plan = applied = None
        # A plaintext broker of one's own has no authorizer: no ACLs, anyone creates topics.
        with suppress(NoAuthorizer):
            plan = plan_access(desired_access(catalogue, names, on), access.read_state())
        if plan is not None and apply:
            applied = access.apply(plan)
        wanted = wanted_topic_names(catalogue, names, on, regions)
        created = create_missing_topics(admin, settings.topics, wanted.plain, wanted.compacted)
    by_plan = applied.topics_created if applied is not None else ()
    return Provisioned(applied, (*by_plan, *created))
