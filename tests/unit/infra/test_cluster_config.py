"""The generated configuration of a three-node cluster: every node a voter of one quorum, three
copies of everything with two in sync, secured like the single node; one node stays standalone."""

from __future__ import annotations

from pathlib import Path

import pytest

from casesync.settings import Settings, TopicSettings
from infra.errors import BadSetting
from infra.kafka.config import (
    KafkaNode,
    NodeSecurity,
    initial_controllers,
    server_properties,
    storage_format_args,
)
from infra.kafka.launcher import KafkaLauncher


def _properties(text: str) -> dict[str, str]:
    lines = text.replace("\\\n", "").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def _cluster(tmp_path: Path) -> list[KafkaNode]:
    return KafkaLauncher(port=40100, controller_port=40101, secured=True, nodes=3).members


def test_cluster_nodes_get_their_own_ports_and_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Node N listens on the first port + 2(N-1), its controller one above, in node-N."""
    monkeypatch.setenv("CASESYNC_RUN_DIR", str(tmp_path))
    nodes = _cluster(tmp_path)
    assert [(n.node_id, n.port, n.controller_port) for n in nodes] == [
        (1, 40100, 40101), (2, 40102, 40103), (3, 40104, 40105),
    ]  # fmt: skip
    assert [n.home for n in nodes] == [tmp_path / "kafka" / f"node-{i}" for i in (1, 2, 3)]
    launcher = KafkaLauncher(port=40100, controller_port=40101, nodes=3)
    assert launcher.bootstrap == "127.0.0.1:40100,127.0.0.1:40102,127.0.0.1:40104"


def test_every_node_replicates_three_times_with_two_in_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defaults and internal topics: RF 3, min ISR 2; the quorum names all three controllers."""
    monkeypatch.setenv("CASESYNC_RUN_DIR", str(tmp_path))
    nodes = _cluster(tmp_path)
    security = NodeSecurity(Path("broker.pem"), Path("ca.crt"), "s3cret", "kafka-broker")
    for node in nodes:
        props = _properties(server_properties(node, nodes, security))
        assert props["node.id"] == str(node.node_id)
        assert props["controller.quorum.bootstrap.servers"] == (
            "127.0.0.1:40101,127.0.0.1:40103,127.0.0.1:40105"
        )
        assert props["log.dirs"] == str(node.data)
        for key in ("default.replication.factor", "offsets.topic.replication.factor",
                    "transaction.state.log.replication.factor",
                    "share.coordinator.state.topic.replication.factor"):  # fmt: skip
            assert props[key] == "3", key
        for key in ("min.insync.replicas", "transaction.state.log.min.isr",
                    "share.coordinator.state.topic.min.isr"):  # fmt: skip
            assert props[key] == "2", key
        assert props["listeners"] == (
            f"CLIENT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}"
        )
        assert props["listener.security.protocol.map"] == "CLIENT:SASL_SSL,CONTROLLER:SSL"
        assert props["listener.name.controller.ssl.client.auth"] == "required"
        assert props["authorizer.class.name"].endswith("StandardAuthorizer")
        assert props["auto.create.topics.enable"] == "false"
        assert props["broker.session.timeout.ms"] == "6000"


def test_a_single_node_keeps_one_copy_and_formats_standalone(tmp_path: Path) -> None:
    """One node: RF 1, min ISR 1, no cluster session tuning, ``--standalone``."""
    node = KafkaNode(1, 40200, 40201, tmp_path)
    props = _properties(server_properties(node, [node], None))
    assert props["default.replication.factor"] == "1"
    assert props["min.insync.replicas"] == "1"
    assert "broker.session.timeout.ms" not in props
    assert props["listener.security.protocol.map"] == "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
    assert "--standalone" in storage_format_args("id", node.config)


def test_cluster_nodes_format_as_the_same_initial_voters_with_the_admin_user(
    tmp_path: Path,
) -> None:
    """``--initial-controllers`` lists id@controller:directory-id of all three, on every node,
    and each node gets the admin's SCRAM credentials."""
    nodes = [
        KafkaNode(i, 40300 + 2 * i, 40301 + 2 * i, tmp_path / f"n{i}", f"dir{i}") for i in (1, 2, 3)
    ]
    voters = initial_controllers(nodes)
    assert voters == "1@127.0.0.1:40303:dir1,2@127.0.0.1:40305:dir2,3@127.0.0.1:40307:dir3"
    args = storage_format_args("cid", nodes[1].config, "pw", voters)
    assert f"--initial-controllers={voters}" in args
    assert "--standalone" not in args
    assert "SCRAM-SHA-512=[name=admin,password=pw]" in args


def test_cluster_format_runs_once_per_node_with_one_cluster_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Formatting a fresh cluster formats all three nodes with one id and one voter list."""
    monkeypatch.setenv("CASESYNC_RUN_DIR", str(tmp_path))
    seen: list[str] = []

    def run(command: list[str], **_: object) -> None:
        seen.append(Path(command[-1].removeprefix("@")).read_text())

    monkeypatch.setattr("infra.kafka.launcher.subprocess.run", run)
    launcher = KafkaLauncher(port=40400, controller_port=40401, secured=True, nodes=3)
    launcher._configure(tmp_path / "libs")
    assert len(seen) == 3
    ids = {line for text in seen for line in text.splitlines() if "--cluster-id" in line}
    voters = {
        line for text in seen for line in text.splitlines() if "--initial-controllers" in line
    }
    assert len(ids) == 1
    assert len(voters) == 1
    for node in launcher.members:
        assert node.config.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("nodes", "copies", "in_sync"), [(1, 1, 1), (2, 2, 1), (3, 3, 2), (5, 3, 2)]
)
def test_topic_defaults_follow_the_node_count(nodes: int, copies: int, in_sync: int) -> None:
    """casesync's topics get RF min(nodes, 3) and min ISR 2 from three copies on."""
    settings = Settings.from_env({"CASESYNC_KAFKA_NODES": str(nodes)})
    assert settings.topics == TopicSettings(replication_factor=copies, min_insync_replicas=in_sync)
    assert settings.kafka_bootstrap.count(",") == nodes - 1


def test_the_bootstrap_list_covers_every_local_node() -> None:
    """Three local nodes from port 33092: the bootstrap names 33092, 33094 and 33096."""
    env = {"CASESYNC_KAFKA_NODES": "3", "CASESYNC_LOCAL_KAFKA_PORT": "33092"}
    assert Settings.from_env(env).kafka_bootstrap == (
        "127.0.0.1:33092,127.0.0.1:33094,127.0.0.1:33096"
    )


def test_explicit_topic_settings_win_over_the_node_count() -> None:
    """CASESYNC_TOPIC_REPLICATION_FACTOR and _MIN_INSYNC_REPLICAS override the defaults."""
    env = {
        "CASESYNC_KAFKA_NODES": "3",
        "CASESYNC_TOPIC_REPLICATION_FACTOR": "2",
        "CASESYNC_TOPIC_MIN_INSYNC_REPLICAS": "1",
    }
    topics = Settings.from_env(env).topics
    assert (topics.replication_factor, topics.min_insync_replicas) == (2, 1)


def test_the_heap_follows_the_setting_and_a_bad_one_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """CASESYNC_KAFKA_HEAP sets every node's heap (512m per cluster node without it); a value
    java would refuse is a BadSetting naming the variable."""
    monkeypatch.setenv("CASESYNC_RUN_DIR", str(tmp_path))
    monkeypatch.delenv("CASESYNC_KAFKA_HEAP", raising=False)
    cluster = KafkaLauncher(port=40500, controller_port=40501, nodes=3)
    assert "-Xmx512m" in cluster._java(Path("libs"), Path("home"))
    monkeypatch.setenv("CASESYNC_KAFKA_HEAP", "1g")
    assert "-Xmx1g" in KafkaLauncher(nodes=3)._java(Path("libs"), Path("home"))
    monkeypatch.setenv("CASESYNC_KAFKA_HEAP", "lots")
    with pytest.raises(BadSetting, match="CASESYNC_KAFKA_HEAP"):
        KafkaLauncher(nodes=3)._java(Path("libs"), Path("home"))


def test_a_later_start_keeps_the_heap_asked_for_and_a_node_out_of_heap_exits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without CASESYNC_KAFKA_HEAP a node gets the heap an earlier start asked for (kept in the
    run folder), not the smaller default its metadata may not fit in; and a JVM out of heap
    exits instead of serving on half-loaded."""
    monkeypatch.setenv("CASESYNC_RUN_DIR", str(tmp_path))
    monkeypatch.delenv("CASESYNC_KAFKA_HEAP", raising=False)
    cluster = KafkaLauncher(nodes=3)
    cluster.heap_file.parent.mkdir(parents=True)
    cluster.heap_file.write_text("1g\n")
    command = cluster._java(Path("libs"), Path("home"))
    assert "-Xmx1g" in command
    assert "-XX:+ExitOnOutOfMemoryError" in command
