"""Runs one combined KRaft broker/controller from the Maven-fetched jars, on 127.0.0.1.

Steps of ``start``:
  1. fetch the pinned jars once (``fetch.sh``, cached under ``.cache/kafka/<version>/libs``);
  2. write ``server.properties`` and format the storage once (a fresh cluster id);
  3. start ``kafka.Kafka`` detached, logging under ``<run>/kafka/logs``;
  4. wait until a client really reaches it (describe cluster), not for a log line.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from infra.errors import MissingPrerequisite, PortBusy, ServiceStartFailed
from infra.paths import cache_dir, local_kafka_port, pid_alive, port_open, run_dir

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


def storage_format_args(cluster_id: str, config: Path) -> list[str]:
    """The StorageTool command line that formats a standalone KRaft node.

    The id is attached with ``=``: about one id in 64 begins with ``-``, which the
    tool's parser would otherwise read as an option and refuse.
    """
    return [
        "kafka.tools.StorageTool", "format", "--standalone",
        f"--cluster-id={cluster_id}", f"--config={config}",
    ]  # fmt: skip


@dataclass(frozen=True)
class KafkaLauncher:
    """A private single-node Kafka on 127.0.0.1:port (controller on controller_port)."""

    port: int = field(default_factory=local_kafka_port)
    controller_port: int = field(default_factory=lambda: local_kafka_port() + 1)
    heap: str = "768m"

    @property
    def home(self) -> Path:
        return run_dir() / "kafka"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "server.log"

    def running_pid(self) -> int | None:
        return pid_alive(self.pid_file)

    def start(self, timeout: float = 90.0) -> bool:
        """Start the broker unless ours already runs; True when this call started it."""
        if self.running_pid() is not None:
            self.wait_ready(timeout)
            return False
        if port_open(self.port) or port_open(self.controller_port):
            raise PortBusy(
                f"port {self.port} or {self.controller_port} is taken by another program; "
                "stop it, or set CASESYNC_KAFKA_BOOTSTRAP to use an existing broker"
            )
        libs = self._fetch_jars()
        config = self._configure(libs)
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        stdout = (self.home / "logs" / "stdout.log").open("ab")
        process = subprocess.Popen(
            [*self._java(libs, config.parent), "kafka.Kafka", str(config)],
            stdout=stdout,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the `make up` that started it
        )
        self.pid_file.write_text(str(process.pid))
        try:
            self.wait_ready(timeout, process)
        except ServiceStartFailed:
            self.stop()
            raise
        return True

    def wait_ready(self, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
        """Poll with a real client until the broker answers metadata requests."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise ServiceStartFailed(
                    f"Kafka exited with {process.returncode}; see {self.log_file}"
                )
            if port_open(self.port) and broker_answers(self.bootstrap):
                return
            time.sleep(0.3)
        raise ServiceStartFailed(f"Kafka not ready after {timeout:.0f}s; see {self.log_file}")

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop our broker (SIGTERM, then SIGKILL); True when one was running."""
        pid = self.running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and pid_alive(self.pid_file) is not None:
            time.sleep(0.2)
        if pid_alive(self.pid_file) is not None:
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """SIGKILL the broker: for failure tests that need an abrupt stop."""
        pid = self.running_pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            while pid_alive(self.pid_file) is not None:
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)

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
        config = self.home / "server.properties"
        data = self.home / "data"
        self.home.mkdir(parents=True, exist_ok=True)
        config.write_text(_server_properties(self.port, self.controller_port, data))
        if not (data / "meta.properties").exists():
            subprocess.run(
                [*self._java(libs, self.home), *storage_format_args(new_cluster_id(), config)],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
        return config

    def _java(self, libs: Path, home: Path) -> list[str]:
        return [
            "java",
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={HERE / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={home / 'logs'}",
            "-cp",
            f"{libs}/*",
        ]


def broker_answers(bootstrap: str) -> bool:
    """True when the broker serves a describe-cluster request; any failure means "not yet"."""
    from kafka import KafkaAdminClient  # imported late: launcher use without kafka-python

    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=3000, bootstrap_timeout_ms=3000
        )
    except Exception:  # noqa: BLE001
        return False
    try:
        admin.describe_cluster()
    except Exception:  # noqa: BLE001
        return False
    finally:
        admin.close()
    return True


def _has(program: str) -> bool:
    from shutil import which

    return which(program) is not None


def _server_properties(port: int, controller_port: int, data: Path) -> str:
    return f"""\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={data}
num.partitions=6
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
log.cleaner.dedupe.buffer.size=33554432
"""
