"""Runs one combined KRaft broker/controller from the Maven-fetched jars, on 127.0.0.1.

Secured unless ``CASESYNC_KAFKA_SECURITY=plaintext``: clients speak SASL_SSL (SCRAM-SHA-512) and
the standard authorizer denies what no ACL allows; the controller listener takes TLS with a
client certificate only.

Steps of ``start``:
  1. fetch the pinned jars once (``fetch.sh``, cached under ``.cache/kafka/<version>/libs``);
  2. make the local CA and the broker's certificate once (``<run>/kafka/tls``, ``tls.py``);
  3. write ``server.properties`` and format the storage once (a fresh cluster id), adding the
     admin's SCRAM credentials, whose password is generated then and kept in
     ``<run>/kafka/admin.properties`` (0600);
  4. start ``kafka.Kafka`` detached, logging under ``<run>/kafka/logs``;
  5. wait until a client really reaches it as admin (describe cluster), not for a log line.
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
    KafkaAccess,
    KafkaSecurity,
    kafka_security_mode,
    read_secrets_file,
)
from infra.errors import FormattedWithoutSecurity, MissingPrerequisite, PortBusy, ServiceStartFailed
from infra.kafka.tls import BROKER_CN, BrokerTls, write_private_text
from infra.paths import cache_dir, local_kafka_port, pid_alive, port_open, run_dir

ADMIN_USER = "admin"

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


def storage_format_args(
    cluster_id: str, config: Path, admin_password: str | None = None
) -> list[str]:
    """The StorageTool command line that formats a standalone KRaft node (with the admin's
    SCRAM credentials when given: the tool prints them salted, so its output is discarded).

    The id is attached with ``=``: about one id in 64 begins with ``-``, which the
    tool's parser would otherwise read as an option and refuse.
    """
    scram = (
        []
        if admin_password is None
        else ["--add-scram", f"SCRAM-SHA-512=[name={ADMIN_USER},password={admin_password}]"]
    )
    return [
        "kafka.tools.StorageTool", "format", "--standalone",
        f"--cluster-id={cluster_id}", f"--config={config}", *scram,
    ]  # fmt: skip


@dataclass(frozen=True)
class KafkaLauncher:
    """A private single-node Kafka on 127.0.0.1:port (controller on controller_port)."""

    port: int = field(default_factory=local_kafka_port)
    controller_port: int = field(default_factory=lambda: local_kafka_port() + 1)
    heap: str = "768m"
    secured: bool = field(default_factory=lambda: kafka_security_mode(os.environ) != "plaintext")

    @property
    def home(self) -> Path:
        return run_dir() / "kafka"

    @property
    def tls(self) -> BrokerTls:
        return BrokerTls(self.home / "tls")

    @property
    def admin_secrets(self) -> Path:
        """The admin's ``username=``/``password=`` file, readable by its owner only."""
        return run_dir() / LOCAL_KAFKA_ADMIN_SECRETS

    @property
    def access(self) -> KafkaAccess:
        """How to reach this broker as its admin (PLAINTEXT when not secured)."""
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
            if self.secured and not self.admin_secrets.exists():
                raise FormattedWithoutSecurity(
                    f"the broker running from {self.home} is not secured; run `make down` "
                    "and `make clean` (deletes the local Kafka data), or set "
                    "CASESYNC_KAFKA_SECURITY=plaintext"
                )
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
        """Poll with a real client (as admin) until the broker answers metadata requests.

        Bounded: a broker with a bad certificate can hang for ever without exiting."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise ServiceStartFailed(
                    f"Kafka exited with {process.returncode}; see {self.log_file}"
                )
            if port_open(self.port) and broker_answers(self.access):
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
        formatted = (data / "meta.properties").exists()
        if self.secured and formatted and not self.admin_secrets.exists():
            raise FormattedWithoutSecurity(
                f"{self.home} holds a broker formatted without security; run `make clean` "
                "(deletes the local Kafka data) or set CASESYNC_KAFKA_SECURITY=plaintext"
            )
        self.home.mkdir(parents=True, exist_ok=True)
        password = None
        if self.secured:
            self.tls.ensure()
            password = self._admin_password(generate=not formatted)
        # 0600: the secured configuration holds the admin's password (the broker's own login).
        config.unlink(missing_ok=True)
        write_private_text(config, self._server_properties(data, password))
        if not formatted:
            self._format(libs, storage_format_args(new_cluster_id(), config, password))
        return config

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

    def _server_properties(self, data: Path, admin_password: str | None) -> str:
        common = _server_properties(self.port, self.controller_port, data)
        if admin_password is None:
            return common + _PLAINTEXT_LISTENERS.format(port=self.port, cport=self.controller_port)
        return common + _SECURED_LISTENERS.format(
            port=self.port, cport=self.controller_port,
            keystore=self.tls.keystore, truststore=self.tls.ca_cert,
            admin=ADMIN_USER, password=admin_password, broker=BROKER_CN,
        )  # fmt: skip

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


def broker_answers(access: KafkaAccess) -> bool:
    """True when the broker serves a describe-cluster request; any failure means "not yet"."""
    from casesync.adapters.kafka_clients import new_admin  # late: needs kafka-python

    try:
        admin = new_admin(access, request_timeout_ms=3000, bootstrap_timeout_ms=3000)
    except Exception:  # noqa: BLE001
        return False
    try:
        admin.describe_cluster()
    except Exception:  # noqa: BLE001
        return False
    finally:
        admin.close()
    return True


def _java_quoted(arg: str) -> str:
    """One argument of a java ``@file``: double-quoted, backslashes and quotes escaped."""
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _has(program: str) -> bool:
    from shutil import which

    return which(program) is not None


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
listener.name.client.scram-sha-512.sasl.jaas.config=\
org.apache.kafka.common.security.scram.ScramLoginModule required \
username="{admin}" password="{password}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:{admin};User:{broker}
allow.everyone.if.no.acl.found=false
"""


def _server_properties(port: int, controller_port: int, data: Path) -> str:
    return f"""\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}
controller.listener.names=CONTROLLER
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
