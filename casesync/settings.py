"""Process settings, read once from the environment at start-up into a frozen value."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from casesync.errors import ConfigError

DEFAULT_KAFKA_BOOTSTRAP = "127.0.0.1:19092"
DEFAULT_DATABASE_URL = "postgresql://casesync@127.0.0.1:15432/casesync"
_PROJECT_ROOT = Path(__file__).resolve().parent.parent  # where the local launchers keep .run


def redact_url(url: str) -> str:
    """The URL with any password replaced, safe to log or print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True, slots=True)
class TopicSettings:
    """How casesync creates its topics."""

    partitions: int = 6
    replication_factor: int = 1
    min_insync_replicas: int = 1
    retention_ms: int = 30 * 24 * 3600 * 1000  # a month: room to replay a region's history


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a casesync process needs to know about where it runs."""

    kafka_bootstrap: str = DEFAULT_KAFKA_BOOTSTRAP
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)  # may hold a password
    topics: TopicSettings = TopicSettings()
    topic_prefix: str = "casesync."  # every topic and group name starts with it
    kafka_overridden: bool = False
    database_overridden: bool = False
    # How long the relay's producer retries a record before failing it (and the relay
    # rebuilding the producer); outages of any length are ridden out either way.
    kafka_delivery_timeout_s: float = 120.0
    secrets_dir: Path = _PROJECT_ROOT / ".run" / "secrets"  # credentials of new principals
    signing_key_dir: Path = _PROJECT_ROOT / ".run" / "keys"  # this region's private signing keys
    # The platform root's public key every manifest must be signed by: a file path (PEM or
    # base64) or the base64 of the raw key itself. Unset: no manifest can be trusted.
    trust_root: str | None = None

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
        topics = TopicSettings(
            partitions=_positive_int(env, "CASESYNC_TOPIC_PARTITIONS", 6),
            replication_factor=_positive_int(env, "CASESYNC_TOPIC_REPLICATION_FACTOR", 1),
            min_insync_replicas=_positive_int(env, "CASESYNC_TOPIC_MIN_INSYNC_REPLICAS", 1),
            retention_ms=_positive_int(env, "CASESYNC_TOPIC_RETENTION_MS", 30 * 24 * 3600 * 1000),
        )
        return cls(
            kafka_bootstrap=bootstrap or _local_kafka_bootstrap(env),
            database_url=database_url or _local_database_url(env),
            topics=topics,
            topic_prefix=env.get("CASESYNC_TOPIC_PREFIX", "").strip() or "casesync.",
            kafka_overridden=bool(bootstrap),
            database_overridden=bool(database_url),
            kafka_delivery_timeout_s=_positive_int(env, "CASESYNC_KAFKA_DELIVERY_TIMEOUT_S", 120),
            secrets_dir=_run_subdir(env, "CASESYNC_SECRETS_DIR", "secrets"),
            signing_key_dir=_run_subdir(env, "CASESYNC_SIGNING_KEY_DIR", "keys"),
            trust_root=env.get("CASESYNC_TRUST_ROOT", "").strip() or None,
        )


def _local_kafka_bootstrap(env: Mapping[str, str]) -> str:
    """The local launcher's broker (``infra``), on ``CASESYNC_LOCAL_KAFKA_PORT`` when set."""
    port = env.get("CASESYNC_LOCAL_KAFKA_PORT", "").strip()
    return f"127.0.0.1:{port}" if port else DEFAULT_KAFKA_BOOTSTRAP


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
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value
