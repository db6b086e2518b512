"""Who leads what in a running local cluster: the metadata quorum and partition leadership."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from casesync.settings import KafkaAccess


@dataclass(frozen=True)
class ClusterView:
    """What the cluster says of itself, as one admin client sees it."""

    brokers: list[int]
    quorum_leader: int | None
    quorum_epoch: int | None
    voters: list[int]
    partitions: int
    under_replicated: int
    leading: Counter[int] = field(default_factory=Counter)  # broker id to partitions it leads


def read_cluster(access: KafkaAccess) -> ClusterView:
    """Describe brokers, the metadata quorum (its leader: the active controller) and every
    topic's partition leaders; raises what kafka-python raises when no node answers."""
    from casesync.adapters.kafka_clients import new_admin  # late: needs kafka-python

    admin = new_admin(access, request_timeout_ms=5000)
    try:
        brokers = [b for b in admin.describe_cluster()["brokers"] if not b.get("is_fenced")]
        live = sorted(int(b["broker_id"]) for b in brokers)
        quorum = admin.describe_metadata_quorum()
        topics = admin.describe_topics()
    finally:
        admin.close()
    return view_of(live, quorum, topics)


def view_of(
    brokers: list[int], quorum: dict[str, Any], topics: list[dict[str, Any]]
) -> ClusterView:
    """The view from kafka-python's describe answers (pure: unit-tested on recorded shapes)."""
    state = _partition_state(quorum)
    leading: Counter[int] = Counter()
    partitions = under = 0
    for topic in topics:
        for partition in topic.get("partitions", []):
            partitions += 1
            leader = partition.get("leader_id")
            if leader is not None and leader >= 0:
                leading[int(leader)] += 1
            if len(partition.get("isr_nodes", [])) < len(partition.get("replica_nodes", [])):
                under += 1
    leader = state.get("leader_id")
    return ClusterView(
        brokers=brokers,
        quorum_leader=leader if leader is not None and leader >= 0 else None,
        quorum_epoch=state.get("leader_epoch"),
        voters=sorted(int(v["replica_id"]) for v in state.get("current_voters", [])),
        partitions=partitions,
        under_replicated=under,
        leading=leading,
    )


def _partition_state(quorum: dict[str, Any]) -> dict[str, Any]:
    """The ``__cluster_metadata`` partition's part of a DescribeQuorum answer."""
    for topic in quorum.get("topics", []):
        for partition in topic.get("partitions", []):
            return dict(partition)
    return {}
