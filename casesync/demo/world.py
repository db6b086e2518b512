"""Who takes part in the demo, and how each region process is pointed at its own resources."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from casesync.errors import ConfigError
from casesync.settings import Settings
from casesync.trust.federation import LocalFederation


@dataclass(frozen=True, slots=True)
class DemoRegion:
    code: str
    name: str
    partner: str


REGIONS = (
    DemoRegion("320500", "苏州 Suzhou", "640100"),
    DemoRegion("640100", "银川 Yinchuan", "320500"),
    DemoRegion("320623", "如东 Rudong", "330483"),
    DemoRegion("330483", "桐乡 Tongxiang", "320623"),
)
TRANSFER_IN, TRANSFER_OUT = "320623", "330483"  # the medical-insurance transfer


@dataclass(frozen=True, slots=True)
class DemoRun:
    """One demo run: a fresh topic prefix and a database per region, from the settings."""

    run_id: str
    settings: Settings
    trust: dict[str, str]  # the run's signing keys and manifest (CASESYNC_TRUST_* variables)

    @classmethod
    def new(cls, base: Settings) -> DemoRun:
        url = base.database_url
        if base.database_overridden and "{region}" not in url:
            raise ConfigError(
                "the demo needs a database per region: put {region} in CASESYNC_DATABASE_URL, "
                "e.g. postgresql://user@host/casesync_demo_{region}"
            )
        if "{region}" not in url:
            url = f"{url.rpartition('/')[0]}/casesync_demo_{{region}}"
        run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        # Every region signs what it publishes and verifies what it receives: one machine holds
        # the whole federation's keys here, as no real deployment would.
        federation = LocalFederation.create(
            Path(".run") / "demo" / run_id / "trust", [region.code for region in REGIONS]
        )
        trust = federation.environment()
        settings = Settings.from_env(
            {
                **os.environ,
                **base.kafka.environment(),
                **trust,
                "CASESYNC_DATABASE_URL": url,
                "CASESYNC_TOPIC_PREFIX": f"{DEMO_PREFIX}{run_id}.",
            }
        )
        return cls(run_id, settings, trust)

    def environment(self) -> dict[str, str]:
        """The environment of every process of this run (as the run's own Kafka user)."""
        return {
            **os.environ,
            **self.settings.kafka.environment(),
            **self.trust,
            "CASESYNC_DATABASE_URL": self.settings.database_url,
            "CASESYNC_TOPIC_PREFIX": self.settings.topic_prefix,
        }

    def region_environment(self, credentials: Path) -> dict[str, str]:
        """The environment of a region's process: it connects as the principal whose
        credentials file is ``credentials`` (a path; the password stays in the file)."""
        env = {k: v for k, v in self.environment().items() if k not in _CREDENTIAL_VARIABLES}
        return {**env, "CASESYNC_KAFKA_SECRETS_FILE": str(credentials)}

    def region_settings(self, credentials: Path) -> Settings:
        """The settings a region's process reads from ``region_environment``."""
        return Settings.from_env(self.region_environment(credentials))


DEMO_PREFIX = "casesync-demo-"
# Whatever names a Kafka user in the environment: a region's process must not inherit them.
_CREDENTIAL_VARIABLES = frozenset(
    {"CASESYNC_KAFKA_USERNAME", "CASESYNC_KAFKA_PASSWORD", "CASESYNC_KAFKA_SECRETS_FILE"}
)
