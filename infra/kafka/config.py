"""What a local KRaft node is told: its ``server.properties`` and its storage tool command line.

Pure text from values, so the settings of one node and of a three-node cluster are unit-tested
without starting a JVM. Every node is broker and controller at once; a cluster's nodes share the
controller addresses and, at format time, the same cluster id and initial voters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ADMIN_USER = "admin"


@dataclass(frozen=True, slots=True)
class KafkaNode:
    """One local node: its id, client and controller ports, and the folder it keeps."""

    node_id: int
    port: int
    controller_port: int
    home: Path
    directory_id: str = ""  # its metadata log folder's id in the initial voters (cluster only)

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def config(self) -> Path:
        return self.home / "server.properties"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "server.log"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def controller_address(self) -> str:
        return f"127.0.0.1:{self.controller_port}"


@dataclass(frozen=True, slots=True)
class NodeSecurity:
    """The secured listeners' files and the broker's own login (the admin's SCRAM user)."""

    keystore: Path
    truststore: Path
    admin_password: str
    broker_principal: str


def initial_controllers(nodes: list[KafkaNode]) -> str:
    """``--initial-controllers``: ``id@host:port:directory-id`` of every voter."""
    return ",".join(f"{n.node_id}@{n.controller_address}:{n.directory_id}" for n in nodes)


def storage_format_args(
    cluster_id: str,
    config: Path,
    admin_password: str | None = None,
    voters: str | None = None,
) -> list[str]:
    """The StorageTool command line that formats a node: standalone alone, or one of the initial
    ``voters`` of a cluster (the same string on every node). With the admin's password, its SCRAM
    credentials are added (the tool prints them salted, so its output is discarded).

    The id is attached with ``=``: about one id in 64 begins with ``-``, which the
    tool's parser would otherwise read as an option and refuse.
    """
    scram = (
        []
        if admin_password is None
        else ["--add-scram", f"SCRAM-SHA-512=[name={ADMIN_USER},password={admin_password}]"]
    )
    quorum = ["--standalone"] if voters is None else [f"--initial-controllers={voters}"]
    return [
        "kafka.tools.StorageTool", "format", *quorum,
        f"--cluster-id={cluster_id}", f"--config={config}", *scram,
    ]  # fmt: skip


def server_properties(
    node: KafkaNode, cluster: list[KafkaNode], security: NodeSecurity | None
) -> str:
    """``server.properties`` of ``node`` among ``cluster`` (itself alone for a single node)."""
    copies = min(len(cluster), 3)
    in_sync = 2 if copies >= 3 else 1
    quorum = ",".join(n.controller_address for n in cluster)
    text = _COMMON.format(
        node_id=node.node_id, quorum=quorum, data=node.data, copies=copies, in_sync=in_sync
    )
    if len(cluster) > 1:
        text += _CLUSTER
    if security is None:
        return text + _PLAINTEXT_LISTENERS.format(port=node.port, cport=node.controller_port)
    return text + _SECURED_LISTENERS.format(
        port=node.port, cport=node.controller_port,
        keystore=security.keystore, truststore=security.truststore,
        admin=ADMIN_USER, password=security.admin_password, broker=security.broker_principal,
    )  # fmt: skip


_COMMON = """\
process.roles=broker,controller
node.id={node_id}
controller.quorum.bootstrap.servers={quorum}
controller.listener.names=CONTROLLER
log.dirs={data}
num.partitions=6
default.replication.factor={copies}
min.insync.replicas={in_sync}
offsets.topic.replication.factor={copies}
transaction.state.log.replication.factor={copies}
transaction.state.log.min.isr={in_sync}
share.coordinator.state.topic.replication.factor={copies}
share.coordinator.state.topic.min.isr={in_sync}
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
log.cleaner.dedupe.buffer.size=33554432
"""

# A lost node stalls every partition until the controller fences it: a 6 s session (9 s by
# default) shortens that stall without fencing a node that a busy 2-core machine delays.
_CLUSTER = """\
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000
"""

_PLAINTEXT_LISTENERS = """\
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
"""

# Clients (and the broker's own inter-broker client, as admin) on SASL_SSL; the controller
# listener on TLS with a required client certificate, whose CN (the broker's) is a super user.
_SECURED_LISTENERS = """\
listeners=CLIENT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}
advertised.listeners=CLIENT://127.0.0.1:{port}
inter.broker.listener.name=CLIENT
listener.security.protocol.map=CLIENT:SASL_SSL,CONTROLLER:SSL
ssl.keystore.type=PEM
ssl.keystore.location={keystore}
ssl.truststore.type=PEM
ssl.truststore.location={truststore}
ssl.endpoint.identification.algorithm=https
listener.name.controller.ssl.client.auth=required
ssl.principal.mapping.rules=RULE:^CN=([^,]+)$/$1/,DEFAULT
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=\\
org.apache.kafka.common.security.scram.ScramLoginModule required \\
username="{admin}" password="{password}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:{admin};User:{broker}
allow.everyone.if.no.acl.found=false
"""
