"""Runs combined KRaft broker/controllers from the Maven-fetched jars, on 127.0.0.1: one node,
or a cluster of ``CASESYNC_KAFKA_NODES`` (each with its own ports, folder and process).

Secured unless ``CASESYNC_KAFKA_SECURITY=plaintext``: clients speak SASL_SSL (SCRAM-SHA-512) and
the standard authorizer denies what no ACL allows; the controller listener takes TLS with a
client certificate only.

Steps of ``start``:
  1. fetch the pinned jars once (``fetch.sh``, cached under ``.cache/kafka/<version>/libs``);
  2. make the local CA and the broker's certificate once (``<run>/kafka/tls``, ``tls.py``);
  3. write each node's ``server.properties`` (``config.py``) and format its storage once (one
     fresh cluster id; a cluster's nodes are its initial voters), adding the admin's SCRAM
     credentials on every node, whose password is generated then and kept in
     ``<run>/kafka/admin.properties`` (0600);
  4. start ``kafka.Kafka`` detached per node, logging under the node's ``logs``;
  5. wait until a client logs in as admin on every node's own address and sees every broker,
     not for a log line: the others' metadata still lists a node that was just killed, and a
     node that dies while loading the metadata (out of heap) or refuses the admin's login must
     fail the start, not pass it.

A heap asked for with ``CASESYNC_KAFKA_HEAP`` is kept in ``<run>/kafka/heap`` and used by later
starts that do not ask: a node restarted with less heap than its metadata needs dies loading it.

One node keeps ``<run>/kafka/{data,logs,kafka.pid}``; node N of a cluster ``<run>/kafka/node-N``.
Node N listens for clients on ``CASESYNC_LOCAL_KAFKA_PORT`` + 2(N-1), its controller one above.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from casesync.settings import (
    LOCAL_KAFKA_ADMIN_SECRETS,
    LOCAL_KAFKA_PORT_STEP,
    KafkaAccess,
    KafkaSecurity,
    kafka_nodes,
    kafka_security_mode,
    read_secrets_file,
)
from infra.errors import (
    BadSetting,
    FormattedWithoutSecurity,
    MissingPrerequisite,
    PortBusy,
    ServiceStartFailed,
    TopologyMismatch,
)
from infra.kafka.config import (
    ADMIN_USER,
    KafkaNode,
    NodeSecurity,
    initial_controllers,
    server_properties,
    storage_format_args,
)
from infra.kafka.tls import BROKER_CN, BrokerTls, write_private_text
from infra.paths import cache_dir, local_kafka_port, pid_alive, port_open, run_dir

__all__ = ["ADMIN_USER", "KafkaLauncher", "broker_answers", "storage_format_args"]

SINGLE_NODE_HEAP = "768m"
# Three on a 2-core machine: enough for hundreds of regions; the national topology (6,379
# topics, 50,932 ACLs) ran a node out of heap while thousands of topics were deleted: give it 1g.
CLUSTER_NODE_HEAP = "512m"
# The exit status of a JVM started with -XX:+ExitOnOutOfMemoryError that ran out of heap.
OUT_OF_HEAP_EXIT = 3

HERE = Path(__file__).resolve().parent


def pinned_version() -> str:
    """The Kafka version pinned in ``infra/kafka/pom.xml``."""
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", (HERE / "pom.xml").read_text())
    if match is None:
        raise MissingPrerequisite("infra/kafka/pom.xml names no <kafka.version>")
    return match.group(1)


def new_cluster_id() -> str:
    """A fresh KRaft cluster id: a random UUID in URL-safe base64 (as ``random-uuid``)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


@dataclass(frozen=True)
class KafkaLauncher:
    """A private local Kafka on 127.0.0.1: one node on ``port`` (controller on
    ``controller_port``), or ``nodes`` nodes from ``port`` on."""

    port: int = field(default_factory=local_kafka_port)
    controller_port: int = field(default_factory=lambda: local_kafka_port() + 1)
    # Per node: CASESYNC_KAFKA_HEAP (e.g. 1g), else SINGLE_NODE_HEAP or CLUSTER_NODE_HEAP.
    heap: str = field(default_factory=lambda: os.environ.get("CASESYNC_KAFKA_HEAP", "").strip())
    secured: bool = field(default_factory=lambda: kafka_security_mode(os.environ) != "plaintext")
    nodes: int = field(default_factory=lambda: kafka_nodes(os.environ))

    @property
    def home(self) -> Path:
        """``<run>/kafka``: the certificates, the admin's credentials, and the node(s)."""
        return run_dir() / "kafka"

    @property
    def clustered(self) -> bool:
        return self.nodes > 1

    @property
    def members(self) -> list[KafkaNode]:
        """Every node, numbered from 1 (the single node's folder is ``home`` itself)."""
        if not self.clustered:
            return [KafkaNode(1, self.port, self.controller_port, self.home)]
        return [
            KafkaNode(
                index + 1,
                self.port + LOCAL_KAFKA_PORT_STEP * index,
                self.controller_port + LOCAL_KAFKA_PORT_STEP * index,
                self.home / f"node-{index + 1}",
            )
            for index in range(self.nodes)
        ]

    def member(self, node_id: int) -> KafkaNode:
        return self.members[node_id - 1]

    @property
    def tls(self) -> BrokerTls:
        return BrokerTls(self.home / "tls")

    @property
    def admin_secrets(self) -> Path:
        """The admin's ``username=``/``password=`` file, readable by its owner only."""
        return run_dir() / LOCAL_KAFKA_ADMIN_SECRETS

    @property
    def access(self) -> KafkaAccess:
        """How to reach the node(s) as admin (PLAINTEXT when not secured)."""
        if not self.secured:
            return KafkaAccess(self.bootstrap, KafkaSecurity.plaintext())
        found = read_secrets_file(self.admin_secrets)
        security = KafkaSecurity(
            ca_file=str(self.tls.ca_cert),
            username=found.get("username"),
            password=found.get("password"),
            secrets_file=str(self.admin_secrets),
        )
        return KafkaAccess(self.bootstrap, security)

    def node_access(self, node: KafkaNode) -> KafkaAccess:
        """How to reach ``node`` alone as admin: a login there proves that node accepts it."""
        return KafkaAccess(node.address, self.access.security)

    @property
    def heap_file(self) -> Path:
        return self.home / "heap"

    @property
    def bootstrap(self) -> str:
        """Every node's client address: a client reaches the cluster while any one answers."""
        return ",".join(node.address for node in self.members)

    @property
    def pid_file(self) -> Path:
        return self.members[0].pid_file

    @property
    def log_file(self) -> Path:
        return self.members[0].log_file

    def running_pid(self) -> int | None:
        """The first node's pid when it runs (the single node's, for one node)."""
        return pid_alive(self.pid_file)

    def running_pids(self) -> dict[int, int | None]:
        """Node id to its pid, None for a node that does not run."""
        return {node.node_id: pid_alive(node.pid_file) for node in self.members}

    def start(self, timeout: float = 90.0) -> bool:
        """Start the nodes unless all of ours run; True when this call started any."""
        self._refuse_other_topology()
        pids = self.running_pids()
        missing = [node for node in self.members if pids[node.node_id] is None]
        if not missing:
            if self.secured and not self.admin_secrets.exists():
                raise FormattedWithoutSecurity(
                    f"the broker running from {self.home} is not secured; run `make down` "
                    "and `make clean` (deletes the local Kafka data), or set "
                    "CASESYNC_KAFKA_SECURITY=plaintext"
                )
            self.wait_ready(timeout)
            return False
        for node in missing:
            if port_open(node.port) or port_open(node.controller_port):
                raise PortBusy(
                    f"port {node.port} or {node.controller_port} is taken by another program; "
                    "stop it, or set CASESYNC_KAFKA_BOOTSTRAP to use an existing broker"
                )
        libs = self._fetch_jars()
        self._configure(libs)
        if self.heap:
            self.heap_file.write_text(f"{self.heap}\n")
        processes = [self._launch(libs, node) for node in missing]
        try:
            self.wait_ready(timeout, processes)
        except ServiceStartFailed:
            self.stop()
            raise
        return True

    def wait_ready(
        self, timeout: float, processes: list[subprocess.Popen[bytes]] | None = None
    ) -> None:
        """Poll every node with a real client logged in as admin on that node's own address
        until each lists every node as a broker.

        Bounded: a broker with a bad certificate can hang for ever without exiting."""
        deadline = time.monotonic() + timeout
        waiting = list(self.members)
        last_answer = {node.node_id: "its port is closed" for node in waiting}
        while time.monotonic() < deadline:
            for process in processes or []:
                if process.poll() is not None:
                    raise ServiceStartFailed(self._exit_reason(process))
            for node in list(waiting):
                if not port_open(node.port):
                    continue
                seen, answer = node_answer(self.node_access(node))
                last_answer[node.node_id] = answer
                if seen >= self.nodes:
                    waiting.remove(node)
            if not waiting:
                return
            time.sleep(0.3)
        node = waiting[0]
        raise ServiceStartFailed(
            f"Kafka node {node.node_id} not ready after {timeout:.0f}s "
            f"({last_answer[node.node_id]}); see {node.log_file}"
        )

    def _exit_reason(self, process: subprocess.Popen[bytes]) -> str:
        log = self._log_of(process)
        if process.returncode == OUT_OF_HEAP_EXIT:
            heap = self._heap()
            return (
                f"Kafka ran out of its {heap} heap (the metadata it holds needs more): set "
                f"CASESYNC_KAFKA_HEAP, e.g. 1g; see {log}"
            )
        return f"Kafka exited with {process.returncode}; see {log}"

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop every node of ours (SIGTERM to all at once, then SIGKILL); True when any ran.

        All at once: stopped one by one, the last node of a cluster waits for a quorum that is
        gone and ignores SIGTERM for a minute."""
        pid_files = self._all_pid_files()
        running = {f: pid for f in pid_files if (pid := pid_alive(f)) is not None}
        for pid in running.values():
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(pid_alive(f) is not None for f in running):
            time.sleep(0.2)
        for pid_file in running:
            if (pid := pid_alive(pid_file)) is not None:
                os.kill(pid, signal.SIGKILL)
                _wait_gone(pid_file)
        for pid_file in pid_files:
            pid_file.unlink(missing_ok=True)
        return bool(running)

    def kill(self) -> None:
        """SIGKILL every node: for failure tests that need an abrupt stop."""
        for node in self.members:
            self.kill_node(node.node_id)

    def kill_node(self, node_id: int) -> None:
        """SIGKILL one node (a lost machine, for failure tests); ``start`` brings it back."""
        pid_file = self.member(node_id).pid_file
        pid = pid_alive(pid_file)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid_file)
        pid_file.unlink(missing_ok=True)

    def _all_pid_files(self) -> list[Path]:
        """Both layouts' pid files: ``down`` stops whatever of ours runs, whatever it is."""
        return [self.home / "kafka.pid", *sorted(self.home.glob("node-*/kafka.pid"))]

    def _refuse_other_topology(self) -> None:
        ours = {node.pid_file for node in self.members}
        others = [f for f in self._all_pid_files() if f not in ours and pid_alive(f) is not None]
        if others:
            raise TopologyMismatch(
                f"a local Kafka of another size runs from {others[0].parent}; run `make down` "
                f"before starting {self.nodes} node(s) (CASESYNC_KAFKA_NODES)"
            )

    def _launch(self, libs: Path, node: KafkaNode) -> subprocess.Popen[bytes]:
        (node.home / "logs").mkdir(parents=True, exist_ok=True)
        with (node.home / "logs" / "stdout.log").open("ab") as stdout:
            process = subprocess.Popen(
                [*self._java(libs, node.home), "kafka.Kafka", str(node.config)],
                stdout=stdout,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # survives the `make up` that started it
            )
        node.pid_file.write_text(str(process.pid))
        return process

    def _log_of(self, process: subprocess.Popen[bytes]) -> Path:
        for node in self.members:
            if node.pid_file.exists() and node.pid_file.read_text().strip() == str(process.pid):
                return node.log_file
        return self.log_file

    def _fetch_jars(self) -> Path:
        if not _has("java"):
            raise MissingPrerequisite("java not found: install a Java 17 runtime (openjdk-17-jre)")
        libs = cache_dir() / "kafka" / pinned_version() / "libs"
        if not (libs / ".complete").exists():
            if not _has("mvn"):
                raise MissingPrerequisite("mvn not found: install maven to fetch the Kafka broker")
            subprocess.run([str(HERE / "fetch.sh")], check=True)
        return libs

    def _configure(self, libs: Path) -> Path:
        """Write every node's configuration; format the storage of a fresh single node or
        cluster. Returns the first node's configuration file."""
        members = self.members
        formatted = [(node.data / "meta.properties").exists() for node in members]
        if any(formatted) and not all(formatted):
            raise TopologyMismatch(
                f"only some nodes under {self.home} hold data; run `make clean` "
                "(deletes the local Kafka data) to format the cluster afresh"
            )
        if self.secured and formatted[0] and not self.admin_secrets.exists():
            raise FormattedWithoutSecurity(
                f"{self.home} holds a broker formatted without security; run `make clean` "
                "(deletes the local Kafka data) or set CASESYNC_KAFKA_SECURITY=plaintext"
            )
        self.home.mkdir(parents=True, exist_ok=True)
        security = None
        if self.secured:
            self.tls.ensure()
            password = self._admin_password(generate=not formatted[0])
            security = NodeSecurity(self.tls.keystore, self.tls.ca_cert, password, BROKER_CN)
        for node in members:
            node.home.mkdir(parents=True, exist_ok=True)
            # 0600: the secured configuration holds the admin's password (the broker's login).
            node.config.unlink(missing_ok=True)
            write_private_text(node.config, server_properties(node, members, security))
        if not formatted[0]:
            self._format_all(libs, members, security)
        return members[0].config

    def _format_all(
        self, libs: Path, members: list[KafkaNode], security: NodeSecurity | None
    ) -> None:
        """Format every node with one cluster id and, for a cluster, the same initial voters
        (each voter's metadata folder named by a fresh directory id)."""
        cluster_id = new_cluster_id()
        password = None if security is None else security.admin_password
        if not self.clustered:
            self._format(libs, storage_format_args(cluster_id, members[0].config, password))
            return
        voters = [
            KafkaNode(n.node_id, n.port, n.controller_port, n.home, new_cluster_id())
            for n in members
        ]
        quorum = initial_controllers(voters)
        for node in members:
            self._format(libs, storage_format_args(cluster_id, node.config, password, quorum))

    def _format(self, libs: Path, tool_args: list[str]) -> None:
        """Run the storage tool with its arguments in a 0600 argument file (``java @file``), so
        the admin's password is never on a command line that ``ps`` shows."""
        args_file = self.home / "format.args"
        write_private_text(args_file, "".join(f"{_java_quoted(arg)}\n" for arg in tool_args))
        try:
            subprocess.run(
                [*self._java(libs, self.home), f"@{args_file}"],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
        finally:
            args_file.unlink(missing_ok=True)

    def _admin_password(self, *, generate: bool) -> str:
        """The admin's password: kept from the file, or (at format time) new when missing."""
        if self.admin_secrets.exists():
            password = read_secrets_file(self.admin_secrets).get("password")
            if password:
                return password
        if not generate:
            raise FormattedWithoutSecurity(
                f"{self.admin_secrets} holds no password; run `make clean` to start afresh"
            )
        password = secrets.token_urlsafe(24)
        write_private_text(self.admin_secrets, f"username={ADMIN_USER}\npassword={password}\n")
        return password

    def _heap(self) -> str:
        """CASESYNC_KAFKA_HEAP, else the heap an earlier start asked for, else the default."""
        if self.heap and not re.fullmatch(r"\d+[mMgG]", self.heap):
            raise BadSetting(f"CASESYNC_KAFKA_HEAP must look like 512m or 1g, got {self.heap!r}")
        kept = self.heap_file.read_text().strip() if self.heap_file.exists() else ""
        if not re.fullmatch(r"\d+[mMgG]", kept):
            kept = ""
        return self.heap or kept or (CLUSTER_NODE_HEAP if self.clustered else SINGLE_NODE_HEAP)

    def _java(self, libs: Path, home: Path) -> list[str]:
        heap = self._heap()
        return [
            "java",
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            # Out of heap, a node exits instead of serving on with half its metadata loaded.
            "-XX:+ExitOnOutOfMemoryError",
            f"-Dlog4j2.configurationFile={HERE / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={home / 'logs'}",
            "-cp",
            f"{libs}/*",
        ]


def brokers_seen(access: KafkaAccess) -> int:
    """How many brokers the cluster's metadata lists; 0 when no node answers yet."""
    return node_answer(access)[0]


def node_answer(access: KafkaAccess) -> tuple[int, str]:
    """How many brokers the metadata lists, asked as ``access`` (0 when there is no answer yet),
    and what the answer was, for a start that gives up."""
    from casesync.adapters.kafka_clients import new_admin  # late: needs kafka-python

    try:
        admin = new_admin(access, request_timeout_ms=3000, bootstrap_timeout_ms=3000)
    except Exception as e:  # noqa: BLE001 - any failure means "not yet"
        return 0, f"{type(e).__name__}: {e}"
    try:
        seen = len(admin.describe_cluster()["brokers"])
        return seen, f"it lists {seen} broker(s)"
    except Exception as e:  # noqa: BLE001
        return 0, f"{type(e).__name__}: {e}"
    finally:
        admin.close()


def broker_answers(access: KafkaAccess) -> bool:
    """True when the broker serves a describe-cluster request; any failure means "not yet"."""
    return brokers_seen(access) > 0


def _wait_gone(pid_file: Path) -> None:
    while pid_alive(pid_file) is not None:
        time.sleep(0.1)


def _java_quoted(arg: str) -> str:
    """One argument of a java ``@file``: double-quoted, backslashes and quotes escaped."""
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _has(program: str) -> bool:
    from shutil import which

    return which(program) is not None
