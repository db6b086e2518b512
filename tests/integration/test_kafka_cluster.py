"""The launcher starts a secured three-node KRaft cluster whose metadata lists three brokers and
on which casesync's topics get three replicas, two of them required in sync."""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka.admin import ConfigResource, ConfigResourceType

from casesync.adapters.kafka_clients import new_admin
from casesync.adapters.topics import ensure_topics
from casesync.settings import TopicSettings
from infra.kafka.launcher import KafkaLauncher
from infra.paths import free_ports

pytestmark = pytest.mark.integration


def test_three_nodes_start_list_three_brokers_and_replicate_topics_three_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`start` returns once all three nodes are brokers; a topic made with the three-node
    defaults has three replicas in sync and min.insync.replicas=2; `stop` stops them all."""
    monkeypatch.setenv("CASESYNC_RUN_DIR", str(tmp_path))
    first = free_ports(6)  # three nodes, a client and a controller port each
    cluster = KafkaLauncher(port=first, controller_port=first + 1, heap="384m", nodes=3)
    try:
        assert cluster.start(timeout=120.0) is True
        admin = new_admin(cluster.access)
        try:
            brokers = admin.describe_cluster()["brokers"]
            assert sorted(b["broker_id"] for b in brokers) == [1, 2, 3]
            ensure_topics(cluster.access, TopicSettings.for_brokers(3), ["casesync.rf3"])
            partitions = admin.describe_topics(["casesync.rf3"])[0]["partitions"]
            assert all(sorted(p["replica_nodes"]) == [1, 2, 3] for p in partitions)
            configs = admin.describe_configs(
                config_resources=[ConfigResource(ConfigResourceType.TOPIC, "casesync.rf3")]
            )
            assert configs["topic"]["casesync.rf3"]["min.insync.replicas"]["value"] == "2"
        finally:
            admin.close()
    finally:
        # Asserted after, not here: a failed start stops the nodes itself, and an assertion
        # raised here would hide that failure behind its own.
        stopped = cluster.stop()
    assert stopped is True
    assert all(pid is None for pid in cluster.running_pids().values())
