"""Process settings, read once from the environment at start-up into a frozen value."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from casesync.errors import ConfigError

DEFAULT_LOCAL_KAFKA_PORT = 19092
DEFAULT_KAFKA_BOOTSTRAP = f"127.0.0.1:{DEFAULT_LOCAL_KAFKA_PORT}"
LOCAL_KAFKA_PORT_STEP = 2  # a local node's client port, then its controller's
MAX_LOCAL_KAFKA_NODES = 5
DEFAULT_DATABASE_URL = "postgresql://casesync@127.0.0.1:15432/casesync"
# 20 ms, not Kafka's 5: at 1,000 events/s on three nodes sharing two cores, 5 ms sent a record or
# two per request, and the requests and follower fetches that followed kept the cores busy
# (machine 1.8 cores, p99 107-215 ms; with 20: 1.5 cores, p99 82-136 ms; one node's p50 went
# from 15-21 to 33-35 ms). A full batch goes at once either way.
DEFAULT_RELAY_LINGER_MS = 20
_PROJECT_ROOT = Path(__file__).resolve().parent.parent  # where the local launchers keep .run

# What the local launcher (infra/kafka) writes under its run folder, and clients of its broker
# read when nothing else is set: the CA that signed the broker's certificate, and the admin's
# SCRAM credentials (a properties file: username=..., password=...).
LOCAL_KAFKA_CA_FILE = Path("kafka", "tls", "ca.crt")
LOCAL_KAFKA_ADMIN_SECRETS = Path("kafka", "admin.properties")
SECURITY_PROTOCOLS = {"sasl_ssl": "SASL_SSL", "plaintext": "PLAINTEXT"}
SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256")


def redact_url(url: str) -> str:
    """The URL with any password replaced, safe to log or print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True, slots=True)
class TopicSettings:
    """How casesync creates its topics.

    One partition per topic by default: a region's inbox takes thousands of events a second on
    one, far above a county's day, while every partition costs each broker that replicates it
    and each client one more leader to produce to and fetch from (on three local nodes, six
    partitions per inbox more than doubled the p99 sync latency at 1,000 events/s).
    A region that needs more raises ``CASESYNC_TOPIC_PARTITIONS`` before its topics are made:
    partitions added later move cases to other partitions, and per-case order with them.
    """

    partitions: int = 1
    replication_factor: int = 1
    min_insync_replicas: int = 1
    retention_ms: int = 30 * 24 * 3600 * 1000  # a month: room to replay a region's history

    @classmethod
    def for_brokers(cls, brokers: int) -> TopicSettings:
        """The defaults for a cluster of ``brokers``: three copies and two in sync from three
        brokers on (a write survives one lost broker and is refused rather than kept once)."""
        replication = min(brokers, 3)
        return cls(replication_factor=replication, min_insync_replicas=2 if replication >= 3 else 1)

    def replicated_for(self, brokers: int) -> TopicSettings:
        """These settings with the replication ``for_brokers(brokers)`` gives, partitions kept."""
        copies = TopicSettings.for_brokers(brokers)
        return dataclasses.replace(
            self,
            replication_factor=copies.replication_factor,
            min_insync_replicas=copies.min_insync_replicas,
        )


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    """How a client proves who it is to the broker, and checks that the broker is the right one.

    ``SASL_SSL``: TLS verified against ``ca_file`` (the system's CAs when None), host name
    included, then SCRAM as ``username``. ``PLAINTEXT`` only when asked for by name.
    """

    protocol: str = "SASL_SSL"
    ca_file: str | None = None
    mechanism: str = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    secrets_file: str | None = None  # where the credentials were read from, for messages

    @classmethod
    def plaintext(cls) -> KafkaSecurity:
        """No TLS, no authentication: for a broker of your own that asks for none."""
        return cls(protocol="PLAINTEXT", mechanism="")

    @property
    def secured(self) -> bool:
        return self.protocol != "PLAINTEXT"


@dataclass(frozen=True, slots=True)
class KafkaAccess:
    """Where the broker is and how to talk to it: what every Kafka client is built from."""

    bootstrap: str
    security: KafkaSecurity = KafkaSecurity()

    def environment(self) -> dict[str, str]:
        """The ``CASESYNC_KAFKA_*`` variables that make a child process reach this broker the
        same way (in its environment, never its argv; the password only when no file has it)."""
        security = self.security
        env = {
            "CASESYNC_KAFKA_BOOTSTRAP": self.bootstrap,
            "CASESYNC_KAFKA_SECURITY": "sasl_ssl" if security.secured else "plaintext",
        }
        if not security.secured:
            return env
        env["CASESYNC_KAFKA_SASL_MECHANISM"] = security.mechanism
        for name, value in [
            ("CASESYNC_KAFKA_CA_FILE", security.ca_file),
            ("CASESYNC_KAFKA_USERNAME", security.username),
            ("CASESYNC_KAFKA_SECRETS_FILE", security.secrets_file),
            ("CASESYNC_KAFKA_PASSWORD", None if security.secrets_file else security.password),
        ]:
            if value:
                env[name] = value
        return env

    def __str__(self) -> str:
        """The broker and the principal, safe to print: never the password."""
        if not self.security.secured:
            return f"{self.bootstrap} (plaintext)"
        return f"{self.bootstrap} as user {self.security.username or '?'}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a casesync process needs to know about where it runs."""

    kafka_bootstrap: str = DEFAULT_KAFKA_BOOTSTRAP
    kafka_security: KafkaSecurity = KafkaSecurity()
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)  # may hold a password
    topics: TopicSettings = TopicSettings()
    topic_prefix: str = "casesync."  # every topic and group name starts with it
    kafka_overridden: bool = False
    database_overridden: bool = False
    # How long the relay's producer retries a record before failing it (and the relay
    # rebuilding the producer); outages of any length are ridden out either way.
    kafka_delivery_timeout_s: float = 120.0
    # How long the relay's producer holds a batch for more records before sending it
    # (``CASESYNC_RELAY_LINGER_MS``): the trade between a record's wait and requests per second.
    relay_linger_ms: int = DEFAULT_RELAY_LINGER_MS
    secrets_dir: Path = _PROJECT_ROOT / ".run" / "secrets"  # credentials of new principals
    signing_key_dir: Path = _PROJECT_ROOT / ".run" / "keys"  # this region's private signing keys
    # The platform root's public key every manifest must be signed by: a file path (PEM or
    # base64) or the base64 of the raw key itself. Unset: no manifest can be trusted.
    trust_root: str | None = None
    # Whether the relay signs and the consumer verifies (``CASESYNC_SIGNING``, on unless a
    # deployment says ``off`` by name: then records go unsigned and nothing is verified).
    signing: bool = True
    # A signed manifest file read besides the manifest topic (``CASESYNC_TRUST_MANIFEST``).
    trust_manifest_file: Path | None = None
    # How often a running process looks for a newer manifest.
    manifest_refresh_s: float = 30.0

    @property
    def kafka(self) -> KafkaAccess:
        """The broker and this process's credentials, as Kafka clients are built from them."""
        return KafkaAccess(self.kafka_bootstrap, self.kafka_security)

    @property
    def database_url_redacted(self) -> str:
        return redact_url(self.database_url)

    def region_database_url(self, region: str) -> str:
        """The database of one region's process.

        ``{region}`` in CASESYNC_DATABASE_URL is replaced by the region code (one server, a
        database per region); a URL without it is used as it is (the region's own server).
        Unset, the local cluster holds one database per region: ``casesync_<region>``.
        """
        if "{region}" in self.database_url:
            return self.database_url.replace("{region}", region)
        if self.database_overridden:
            return self.database_url
        base, _, _ = self.database_url.rpartition("/")
        return f"{base}/casesync_{region}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``CASESYNC_*`` variables; unset ones take the local launchers' defaults."""
        env = os.environ if env is None else env
        bootstrap = env.get("CASESYNC_KAFKA_BOOTSTRAP", "").strip()
        database_url = env.get("CASESYNC_DATABASE_URL", "").strip()
        if database_url and not database_url.startswith(("postgresql://", "postgres://")):
            raise ConfigError(
                "CASESYNC_DATABASE_URL must be a postgresql:// URL, "
                f"got {redact_url(database_url)!r}"
            )
        defaults = TopicSettings.for_brokers(kafka_nodes(env))
        topics = TopicSettings(
            partitions=_positive_int(env, "CASESYNC_TOPIC_PARTITIONS", defaults.partitions),
            replication_factor=_positive_int(
                env, "CASESYNC_TOPIC_REPLICATION_FACTOR", defaults.replication_factor
            ),
            min_insync_replicas=_positive_int(
                env, "CASESYNC_TOPIC_MIN_INSYNC_REPLICAS", defaults.min_insync_replicas
            ),
            retention_ms=_positive_int(env, "CASESYNC_TOPIC_RETENTION_MS", defaults.retention_ms),
        )
        local_bootstrap = _local_kafka_bootstrap(env)
        return cls(
            kafka_bootstrap=bootstrap or local_bootstrap,
            kafka_security=kafka_security_from_env(env, local=bootstrap in ("", local_bootstrap)),
            database_url=database_url or _local_database_url(env),
            topics=topics,
            topic_prefix=env.get("CASESYNC_TOPIC_PREFIX", "").strip() or "casesync.",
            kafka_overridden=bool(bootstrap),
            database_overridden=bool(database_url),
            kafka_delivery_timeout_s=_positive_int(env, "CASESYNC_KAFKA_DELIVERY_TIMEOUT_S", 120),
            relay_linger_ms=_whole_number(
                env, "CASESYNC_RELAY_LINGER_MS", DEFAULT_RELAY_LINGER_MS, minimum=0
            ),
            secrets_dir=_run_subdir(env, "CASESYNC_SECRETS_DIR", "secrets"),
            signing_key_dir=_run_subdir(env, "CASESYNC_SIGNING_KEY_DIR", "keys"),
            trust_root=env.get("CASESYNC_TRUST_ROOT", "").strip() or None,
            signing=signing_mode(env),
            trust_manifest_file=_optional_path(env, "CASESYNC_TRUST_MANIFEST"),
            manifest_refresh_s=_positive_int(env, "CASESYNC_MANIFEST_REFRESH_S", 30),
        )


def signing_mode(env: Mapping[str, str]) -> bool:
    """``CASESYNC_SIGNING``: ``on`` (the default) or ``off``, which must be said by name."""
    raw = env.get("CASESYNC_SIGNING", "").strip().lower() or "on"
    if raw not in ("on", "off"):
        raise ConfigError(f"CASESYNC_SIGNING must be on or off, got {raw!r}")
    return raw == "on"


def _optional_path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    return Path(raw) if raw else None


def kafka_security_mode(env: Mapping[str, str]) -> str:
    """``CASESYNC_KAFKA_SECURITY``: ``sasl_ssl`` (the default) or ``plaintext``."""
    raw = env.get("CASESYNC_KAFKA_SECURITY", "").strip().lower() or "sasl_ssl"
    if raw not in SECURITY_PROTOCOLS:
        raise ConfigError(
            f"CASESYNC_KAFKA_SECURITY must be one of {', '.join(SECURITY_PROTOCOLS)}, got {raw!r}"
        )
    return raw


def kafka_security_from_env(env: Mapping[str, str], *, local: bool) -> KafkaSecurity:
    """The client side of Kafka security from ``CASESYNC_KAFKA_*``.

    Credentials: ``CASESYNC_KAFKA_USERNAME`` and ``CASESYNC_KAFKA_PASSWORD``, or a secrets file
    (``CASESYNC_KAFKA_SECRETS_FILE``: ``username=`` and ``password=`` lines); the variables win
    over the file. With none of them and the local launcher's broker (``local``), the admin
    credentials and CA file that the launcher wrote under the run folder.
    """
    if kafka_security_mode(env) == "plaintext":
        return KafkaSecurity.plaintext()
    mechanism = env.get("CASESYNC_KAFKA_SASL_MECHANISM", "").strip().upper() or SASL_MECHANISMS[0]
    if mechanism not in SASL_MECHANISMS:
        raise ConfigError(
            f"CASESYNC_KAFKA_SASL_MECHANISM must be one of {', '.join(SASL_MECHANISMS)}, "
            f"got {mechanism!r}"
        )
    username = env.get("CASESYNC_KAFKA_USERNAME", "").strip() or None
    password = env.get("CASESYNC_KAFKA_PASSWORD") or None
    secrets_file = env.get("CASESYNC_KAFKA_SECRETS_FILE", "").strip() or None
    ca_file = env.get("CASESYNC_KAFKA_CA_FILE", "").strip() or None
    use_local = local and not (username or secrets_file)
    if use_local:
        secrets_file = str(local_run_dir(env) / LOCAL_KAFKA_ADMIN_SECRETS)
    if local and ca_file is None:
        ca_file = str(local_run_dir(env) / LOCAL_KAFKA_CA_FILE)
    if secrets_file is not None and (not use_local or Path(secrets_file).exists()):
        found = read_secrets_file(Path(secrets_file))
        username = username or found.get("username")
        password = password or found.get("password")
    return KafkaSecurity(
        protocol="SASL_SSL", ca_file=ca_file, mechanism=mechanism,
        username=username or ("admin" if use_local else None), password=password,
        secrets_file=secrets_file,
    )  # fmt: skip


def read_secrets_file(path: Path) -> dict[str, str]:
    """``key=value`` lines (blank lines and ``#`` comments skipped) of a credentials file."""
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(
            f"CASESYNC_KAFKA_SECRETS_FILE {path} cannot be read ({type(e).__name__})"
        ) from None
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:  # never echo the line: it may be a bare password
            raise ConfigError(f"{path} line {number} is not key=value")
        found[key.strip()] = value.strip()
    return found


def local_run_dir(env: Mapping[str, str]) -> Path:
    """The local launchers' run folder: ``CASESYNC_RUN_DIR`` or ``<project>/.run``."""
    raw = env.get("CASESYNC_RUN_DIR", "").strip()
    return Path(raw or Path(__file__).resolve().parent.parent / ".run").resolve()


def kafka_nodes(env: Mapping[str, str]) -> int:
    """``CASESYNC_KAFKA_NODES``: how many brokers the cluster has (1, the default, or up to
    ``MAX_LOCAL_KAFKA_NODES``); the local launcher starts that many, and topics are replicated
    by it (``TopicSettings.for_brokers``)."""
    nodes = _positive_int(env, "CASESYNC_KAFKA_NODES", 1)
    if nodes > MAX_LOCAL_KAFKA_NODES:
        raise ConfigError(
            f"CASESYNC_KAFKA_NODES must be at most {MAX_LOCAL_KAFKA_NODES}, got {nodes}"
        )
    return nodes


def local_kafka_client_ports(first_port: int, nodes: int) -> list[int]:
    """The local nodes' client ports: node 1 on ``first_port``, each next node two ports on
    (every node's controller listens on the port after its client port)."""
    return [first_port + LOCAL_KAFKA_PORT_STEP * index for index in range(nodes)]


def _local_kafka_bootstrap(env: Mapping[str, str]) -> str:
    """The local launcher's brokers (``infra``): every node, from ``CASESYNC_LOCAL_KAFKA_PORT``
    (19092 by default) on."""
    port = env.get("CASESYNC_LOCAL_KAFKA_PORT", "").strip()
    first = int(port) if port.isdigit() else DEFAULT_LOCAL_KAFKA_PORT
    ports = local_kafka_client_ports(first, kafka_nodes(env))
    return ",".join(f"127.0.0.1:{p}" for p in ports)


def _local_database_url(env: Mapping[str, str]) -> str:
    """The local launcher's cluster, on ``CASESYNC_LOCAL_POSTGRES_PORT`` when set."""
    port = env.get("CASESYNC_LOCAL_POSTGRES_PORT", "").strip()
    return DEFAULT_DATABASE_URL.replace(":15432/", f":{port}/") if port else DEFAULT_DATABASE_URL


def _run_subdir(env: Mapping[str, str], name: str, default: str) -> Path:
    """The folder ``name`` says, else ``default`` in the run folder (``CASESYNC_RUN_DIR``)."""
    chosen = env.get(name, "").strip()
    if chosen:
        return Path(chosen)
    run_dir = env.get("CASESYNC_RUN_DIR", "").strip()
    return (Path(run_dir) if run_dir else _PROJECT_ROOT / ".run") / default


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    return _whole_number(env, name, default, minimum=1)


def _whole_number(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value
