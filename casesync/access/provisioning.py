"""The topics the agreements in force imply, created where the cluster lacks them.

One source decides which inboxes exist: ``region init``, ``access apply``, the test plugin's
regions and the demo all create what ``desired_access`` names. A national item is shared with
every region, so a relay can deliver one only once every region's inbox exists: creating just
the region's own inbox held such rows in the outbox until someone made all the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from casesync.access.desired import desired_access
from casesync.adapters.topics import TopicNames, ensure_topics
from casesync.domain.catalogue import Catalogue
from casesync.settings import KafkaAccess, TopicSettings


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
