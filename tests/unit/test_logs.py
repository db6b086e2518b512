"""Log records never carry a Kafka client's password, whoever logs the configuration."""

from __future__ import annotations

import logging

from casesync.logs import mask_client_secrets


def test_a_logged_client_configuration_shows_no_password() -> None:
    """kafka-python's DEBUG line of its configuration keeps every key but masks the secrets."""
    record = logging.LogRecord(
        "kafka.admin.client", logging.DEBUG, __file__, 1, "configuration: %s",
        ({"sasl_plain_password": "s3cret", "sasl_plain_username": "admin"},), None,
    )  # fmt: skip
    assert mask_client_secrets(record)
    assert "s3cret" not in record.getMessage()
    assert "admin" in record.getMessage()
