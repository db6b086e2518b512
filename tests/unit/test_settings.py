"""Settings are read once from the environment, validated, and never leak secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from casesync.errors import ConfigError
from casesync.settings import DEFAULT_KAFKA_BOOTSTRAP, Settings, redact_url


def test_unset_environment_points_at_the_local_launchers() -> None:
    """With no CASESYNC_* variables the settings name the local broker and cluster."""
    settings = Settings.from_env({})
    assert settings.kafka_bootstrap == DEFAULT_KAFKA_BOOTSTRAP
    assert not settings.kafka_overridden
    assert not settings.database_overridden


def test_overrides_are_taken_and_flagged() -> None:
    """CASESYNC_KAFKA_BOOTSTRAP and CASESYNC_DATABASE_URL replace the defaults."""
    settings = Settings.from_env(
        {
            "CASESYNC_KAFKA_BOOTSTRAP": "kafka:9092",
            "CASESYNC_DATABASE_URL": "postgresql://u:pw@db/x",
        }
    )
    assert (settings.kafka_bootstrap, settings.database_url) == (
        "kafka:9092",
        "postgresql://u:pw@db/x",
    )
    assert settings.kafka_overridden
    assert settings.database_overridden


def test_password_never_appears_in_repr_or_redacted_url() -> None:
    """A database password is masked wherever settings are shown."""
    settings = Settings.from_env({"CASESYNC_DATABASE_URL": "postgresql://u:s3cret@db:5432/x"})
    assert "s3cret" not in repr(settings)
    assert settings.database_url_redacted == "postgresql://u:***@db:5432/x"
    assert redact_url("postgresql://u@db/x") == "postgresql://u@db/x"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CASESYNC_DATABASE_URL", "mysql://db/x"),
        ("CASESYNC_TOPIC_PARTITIONS", "six"),
        ("CASESYNC_TOPIC_REPLICATION_FACTOR", "0"),
    ],
)
def test_malformed_setting_is_a_config_error_naming_the_variable(name: str, value: str) -> None:
    """A malformed variable raises ConfigError whose message names it."""
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_region_database_url_follows_placeholder_override_or_default() -> None:
    """Each region gets its own database: by placeholder, by override, or casesync_<code>."""
    assert Settings.from_env({}).region_database_url("320623").endswith("/casesync_320623")
    placeholder = Settings.from_env({"CASESYNC_DATABASE_URL": "postgresql://h/cs_{region}"})
    assert placeholder.region_database_url("330483") == "postgresql://h/cs_330483"
    fixed = Settings.from_env({"CASESYNC_DATABASE_URL": "postgresql://h/rudong"})
    assert fixed.region_database_url("320623") == "postgresql://h/rudong"


def test_new_principals_credentials_go_to_the_secrets_folder() -> None:
    """CASESYNC_SECRETS_DIR names the folder; else it is ``secrets`` in CASESYNC_RUN_DIR, else
    in the project's ``.run``."""
    chosen = Settings.from_env({"CASESYNC_SECRETS_DIR": "/srv/casesync/keys"})
    assert chosen.secrets_dir == Path("/srv/casesync/keys")
    in_run = Settings.from_env({"CASESYNC_RUN_DIR": "/tmp/run2"})
    assert in_run.secrets_dir == Path("/tmp/run2/secrets")
    default = Settings.from_env({})
    assert default.secrets_dir.parts[-2:] == (".run", "secrets")


def test_signing_keys_go_to_the_key_folder_and_the_trust_root_is_read_as_given() -> None:
    """CASESYNC_SIGNING_KEY_DIR names the folder (else ``keys`` in the run folder);
    CASESYNC_TRUST_ROOT is kept as written, unset meaning no root."""
    env = {"CASESYNC_SIGNING_KEY_DIR": "/srv/keys", "CASESYNC_TRUST_ROOT": "x"}
    chosen = Settings.from_env(env)
    assert chosen.signing_key_dir == Path("/srv/keys")
    assert chosen.trust_root == "x"
    in_run = Settings.from_env({"CASESYNC_RUN_DIR": "/tmp/run2"})
    assert in_run.signing_key_dir == Path("/tmp/run2/keys")
    assert in_run.trust_root is None
