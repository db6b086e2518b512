"""The broker is secured: plaintext and wrong credentials are refused, and a refused login is one
line naming the user and the broker (never the password) whatever the command."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time

import pytest
from kafka.errors import KafkaTimeoutError

from casesync.adapters.kafka_clients import new_admin
from casesync.errors import AccessRefused
from casesync.settings import KafkaAccess, KafkaSecurity
from casesync.testing import Services
from casesync.testing_regions import RegionFactory

pytestmark = pytest.mark.integration

RUDONG, TONGXIANG = "320623", "330483"
WRONG = "not-the-password-7f3a"


@pytest.fixture
def secured(casesync_services: Services) -> KafkaAccess:
    """The session's broker, which must be a secured one for these tests to mean anything."""
    if not casesync_services.kafka.security.secured:
        pytest.skip("this session's broker is plaintext (testcontainers or an explicit setting)")
    return casesync_services.kafka


def _with(access: KafkaAccess, **changes: str) -> KafkaAccess:
    return dataclasses.replace(access, security=dataclasses.replace(access.security, **changes))


def test_the_admin_is_served(secured: KafkaAccess) -> None:
    """The admin credentials the launcher wrote reach the broker over TLS and may describe it."""
    admin = new_admin(secured)
    try:
        assert admin.describe_cluster()["brokers"]
    finally:
        admin.close()


def test_a_plaintext_client_is_not_served_on_the_secured_port(secured: KafkaAccess) -> None:
    """A client that skips TLS and SASL never gets metadata from the client port."""
    plaintext = KafkaAccess(secured.bootstrap, KafkaSecurity.plaintext())
    with pytest.raises(KafkaTimeoutError):
        new_admin(plaintext, bootstrap_timeout_ms=3000)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"password": WRONG}, "authentication failed"),
        ({"username": "nobody-of-this-name"}, "authentication failed"),
        ({"ca_file": "/etc/ssl/certs/ca-certificates.crt"}, "certificate is not trusted"),
    ],
)
def test_a_refused_client_is_access_refused_not_a_retriable_timeout(
    secured: KafkaAccess, changes: dict[str, str], reason: str
) -> None:
    """A wrong password, an unknown user or a CA that did not sign the broker's certificate
    raise AccessRefused (not retriable) naming user and broker, and never the password."""
    access = _with(secured, **changes)
    with pytest.raises(AccessRefused) as refused:
        new_admin(access)
    message = str(refused.value)
    assert not refused.value.retriable
    assert reason in message
    assert f"Kafka at {secured.bootstrap} refused user {access.security.username!r}" in message
    assert WRONG not in message
    assert secured.security.password is not None
    assert secured.security.password not in message


@pytest.mark.parametrize(
    "command",
    [
        ["check"],
        ["region", "init", "--region", RUDONG],
        ["relay", "--region", RUDONG],
        ["consume", "--region", TONGXIANG],
        ["ops", "status", "--region", TONGXIANG],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_a_wrong_password_ends_every_command_in_one_line(
    secured: KafkaAccess, region_factory: RegionFactory, command: list[str]
) -> None:
    """With a wrong password each command exits 2 within seconds and ends on one line naming the
    user and the broker, no traceback; the password appears nowhere in its output."""
    rudong, tongxiang = region_factory(RUDONG), region_factory(TONGXIANG)
    rudong.simulate(1, seed=3, partners=[TONGXIANG])  # work for the relay
    env = {
        **os.environ,
        **secured.environment(),
        "CASESYNC_DATABASE_URL": tongxiang.url if TONGXIANG in command else rudong.url,
        "CASESYNC_TOPIC_PREFIX": rudong.settings.topic_prefix,
        "CASESYNC_KAFKA_PASSWORD": WRONG,  # wins over the secrets file
    }
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "casesync", "--log-json", *command],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    took = time.monotonic() - began
    user = secured.security.username
    line = (
        f"casesync: Kafka at {secured.bootstrap} refused user {user!r}: "
        "authentication failed (SCRAM-SHA-512): wrong password or unknown user"
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == line
    assert done.stderr.count("refused user") == 1
    assert "Traceback" not in done.stderr
    assert WRONG not in done.stdout + done.stderr
    assert took < 45, f"took {took:.0f} s"  # the bound kafka-python alone does not have
