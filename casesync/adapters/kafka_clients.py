"""Every Kafka client of casesync is built here, from one ``KafkaAccess``.

``client_args`` is the only place that turns settings into kafka-python's connection and
security arguments; ``new_producer``, ``new_consumer`` and ``new_admin`` add one more thing:
kafka-python answers refused credentials, an unknown user or an untrusted certificate with the
same retriable ``KafkaTimeoutError`` as a broker that is down, so a retry loop would retry a
wrong password for ever. After such a timeout on a secured broker we ask it why
(``kafka_refusals``); a refusal becomes ``AccessRefused``: not retriable, one line naming the
user and the broker. Importing this module installs ``kafka_python_fixes`` first, so no client
is built whose metadata can stop refreshing when a node dies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaTimeoutError

from casesync.adapters import kafka_python_fixes
from casesync.adapters.kafka_refusals import explain_refusal
from casesync.errors import AccessRefused, ConfigError
from casesync.settings import KafkaAccess

kafka_python_fixes.install()

# A broker that answers at all answers within a few seconds; past this a client gives up
# bootstrapping, so a refusal is reported in seconds rather than kafka-python's 30.
BOOTSTRAP_TIMEOUT_MS = 8_000


def client_args(access: KafkaAccess) -> dict[str, Any]:
    """kafka-python keyword arguments for the broker and security of ``access``."""
    args: dict[str, Any] = {
        "bootstrap_servers": access.bootstrap,
        "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
    }
    security = access.security
    if not security.secured:
        return {**args, "security_protocol": "PLAINTEXT"}
    if not security.username or not security.password:
        raise ConfigError(_missing_credentials(access))
    if security.ca_file is not None and not Path(security.ca_file).is_file():
        raise ConfigError(
            f"Kafka CA file {security.ca_file} does not exist "
            "(CASESYNC_KAFKA_CA_FILE; the local broker writes its own on `make up`)"
        )
    return {
        **args,
        "security_protocol": security.protocol,
        "ssl_cafile": security.ca_file,
        "ssl_check_hostname": True,
        "sasl_mechanism": security.mechanism,
        "sasl_plain_username": security.username,  # kafka-python's name, SCRAM's too
        "sasl_plain_password": security.password,
    }


def new_producer(access: KafkaAccess, **options: Any) -> KafkaProducer:
    """A producer of ``access``'s broker; ``options`` are kafka-python's producer options."""
    args = {**client_args(access), **options}
    try:
        return KafkaProducer(**args)
    except KafkaTimeoutError as e:
        raise _refused_or(access, e) from e


def new_consumer(access: KafkaAccess, *topics: str, **options: Any) -> KafkaConsumer:
    """A consumer (subscribed to ``topics`` when given) of ``access``'s broker."""
    args = {**client_args(access), **options}
    try:
        return KafkaConsumer(*topics, **args)
    except KafkaTimeoutError as e:
        raise _refused_or(access, e) from e


def new_admin(access: KafkaAccess, **options: Any) -> KafkaAdminClient:
    """An admin client of ``access``'s broker."""
    args = {**client_args(access), **options}
    try:
        return KafkaAdminClient(**args)
    except KafkaTimeoutError as e:
        raise _refused_or(access, e) from e


def _refused_or(access: KafkaAccess, error: Exception) -> Exception:
    """AccessRefused when the broker is there but refused us; else the timeout as it was."""
    reason = explain_refusal(access) if access.security.secured else None
    if reason is None:
        return error
    return AccessRefused(access.bootstrap, access.security.username or "?", reason)


def _missing_credentials(access: KafkaAccess) -> str:
    security = access.security
    what = "password" if security.username else "user name"
    where = "set CASESYNC_KAFKA_USERNAME and CASESYNC_KAFKA_PASSWORD or CASESYNC_KAFKA_SECRETS_FILE"
    if security.secrets_file and not Path(security.secrets_file).exists():
        where += (
            f" ({security.secrets_file} does not exist; the local broker writes it on `make up`)"
        )
    return f"no Kafka {what} for {access.bootstrap}: {where}"
