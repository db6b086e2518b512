"""Settings are read once from the environment, validated, and never leak secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from casesync.adapters.kafka_clients import client_args
from casesync.errors import ConfigError
from casesync.settings import (
    DEFAULT_KAFKA_BOOTSTRAP,
    KafkaAccess,
    KafkaSecurity,
    Settings,
    TopicSettings,
    redact_url,
)


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


def test_the_relay_lingers_20_ms_unless_told_otherwise_and_zero_is_allowed() -> None:
    """CASESYNC_RELAY_LINGER_MS sets the relay's linger; 0 sends every batch at once."""
    assert Settings.from_env({}).relay_linger_ms == 20
    assert Settings.from_env({"CASESYNC_RELAY_LINGER_MS": "0"}).relay_linger_ms == 0
    assert Settings.from_env({"CASESYNC_RELAY_LINGER_MS": " 50 "}).relay_linger_ms == 50


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
        ("CASESYNC_RELAY_LINGER_MS", "-1"),
        ("CASESYNC_RELAY_LINGER_MS", "5ms"),
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


def test_kafka_is_secured_unless_plaintext_is_asked_for_by_name() -> None:
    """SASL_SSL with SCRAM-SHA-512 is the default; PLAINTEXT only with CASESYNC_KAFKA_SECURITY."""
    secured = Settings.from_env({"CASESYNC_KAFKA_USERNAME": "u", "CASESYNC_KAFKA_PASSWORD": "p"})
    assert (secured.kafka_security.protocol, secured.kafka_security.mechanism) == (
        "SASL_SSL",
        "SCRAM-SHA-512",
    )
    plain = Settings.from_env({"CASESYNC_KAFKA_SECURITY": "plaintext"})
    assert not plain.kafka_security.secured
    with pytest.raises(ConfigError, match="CASESYNC_KAFKA_SECURITY"):
        Settings.from_env({"CASESYNC_KAFKA_SECURITY": "none"})


def test_the_local_broker_defaults_to_the_admin_credentials_the_launcher_wrote(
    tmp_path: Path,
) -> None:
    """With nothing set, clients of the local broker read the run folder's admin file and CA."""
    (tmp_path / "kafka").mkdir()
    (tmp_path / "kafka" / "admin.properties").write_text("username=admin\npassword=s3cret\n")
    security = Settings.from_env({"CASESYNC_RUN_DIR": str(tmp_path)}).kafka_security
    assert (security.username, security.password) == ("admin", "s3cret")
    assert security.ca_file == str(tmp_path / "kafka" / "tls" / "ca.crt")
    external = Settings.from_env({"CASESYNC_KAFKA_BOOTSTRAP": "kafka.example:9093"})
    assert external.kafka_security.username is None  # never the local admin for another broker


def test_credentials_come_from_a_secrets_file_and_the_variables_win(tmp_path: Path) -> None:
    """CASESYNC_KAFKA_SECRETS_FILE gives user and password; CASESYNC_KAFKA_PASSWORD overrides."""
    secrets = tmp_path / "region.properties"
    secrets.write_text("# region 320623\nusername=r320623\npassword=from-file\n")
    env = {"CASESYNC_KAFKA_BOOTSTRAP": "kafka:9093", "CASESYNC_KAFKA_SECRETS_FILE": str(secrets)}
    assert Settings.from_env(env).kafka_security.password == "from-file"
    overridden = Settings.from_env({**env, "CASESYNC_KAFKA_PASSWORD": "from-env"})
    assert (overridden.kafka_security.username, overridden.kafka_security.password) == (
        "r320623",
        "from-env",
    )


def test_a_secrets_file_that_is_not_key_value_is_refused_without_echoing_it(
    tmp_path: Path,
) -> None:
    """A bare line in the secrets file (perhaps a password) is named by number, not shown."""
    secrets = tmp_path / "bad.properties"
    secrets.write_text("hunter2\n")
    with pytest.raises(ConfigError, match="line 1") as refused:
        Settings.from_env({"CASESYNC_KAFKA_SECRETS_FILE": str(secrets)})
    assert "hunter2" not in str(refused.value)


def test_the_kafka_password_is_in_no_repr_description_or_child_environment(
    tmp_path: Path,
) -> None:
    """Settings' repr and the printed access hide the password; a child process gets the
    secrets file's path rather than the password when there is one."""
    secrets = tmp_path / "s.properties"
    secrets.write_text("username=u\npassword=s3cret\n")
    settings = Settings.from_env(
        {"CASESYNC_KAFKA_BOOTSTRAP": "k:9093", "CASESYNC_KAFKA_SECRETS_FILE": str(secrets)}
    )
    assert "s3cret" not in repr(settings)
    assert str(settings.kafka) == "k:9093 as user u"
    env = settings.kafka.environment()
    assert "s3cret" not in env.values()
    assert Settings.from_env(env).kafka == settings.kafka


def test_a_secured_client_without_a_password_is_a_config_error_naming_the_variables() -> None:
    """client_args refuses to build a secured client with no password, saying what to set."""
    access = KafkaAccess("k:9093", KafkaSecurity(username="u"))
    with pytest.raises(ConfigError, match="CASESYNC_KAFKA_PASSWORD"):
        client_args(access)
    assert client_args(KafkaAccess("k:9092", KafkaSecurity.plaintext()))["security_protocol"] == (
        "PLAINTEXT"
    )


def test_topics_replicated_for_a_cluster_keep_their_partitions_and_take_its_replication() -> None:
    """Six-partition topics on three brokers stay six partitions, with three copies, two in
    sync; on one broker, one copy."""
    six = TopicSettings(partitions=6)
    assert six.replicated_for(3) == TopicSettings(
        partitions=6, replication_factor=3, min_insync_replicas=2
    )
    assert six.replicated_for(1) == six
