"""Why a secured broker did not let a client bootstrap, when the reason is a refusal.

kafka-python retries a refused SASL login until its bootstrap timeout, then raises the same
``KafkaTimeoutError`` as for a broker that is down; the ``SaslAuthenticationFailedError`` itself
only reaches its log (``kafka.net.connection``: "Connection lost: <error>"). A filter on that
logger notes such errors (by type, from the record's arguments) before the level check of the
``kafka`` logger decides whether the line is shown. A certificate the CA file does not vouch for
is found by a TLS handshake of our own after the timeout.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time

from kafka.errors import SaslAuthenticationFailedError

from casesync.settings import KafkaAccess

_lock = threading.Lock()
_last_sasl_refusal = float("-inf")  # time.monotonic() of the latest one seen


class _NoteRefusals(logging.Filter):
    """Notes SASL refusals; lets a record through only as far as the ``kafka`` logger would."""

    def filter(self, record: logging.LogRecord) -> bool:
        global _last_sasl_refusal
        args = record.args if isinstance(record.args, tuple) else ()
        if any(isinstance(arg, SaslAuthenticationFailedError) for arg in args):
            with _lock:
                _last_sasl_refusal = time.monotonic()
        return record.levelno >= logging.getLogger("kafka").getEffectiveLevel()


def watch_refusals() -> None:
    """Install the filter once (idempotent); the watched logger must let errors be created."""
    connection_log = logging.getLogger("kafka.net.connection")
    if not any(isinstance(f, _NoteRefusals) for f in connection_log.filters):
        connection_log.addFilter(_NoteRefusals())
    if not connection_log.isEnabledFor(logging.ERROR):
        connection_log.setLevel(logging.ERROR)


def explain_refusal(access: KafkaAccess, since: float) -> str | None:
    """Why the broker refused ``access`` after ``since`` (``time.monotonic()``), or None when
    nothing says it refused (down, slow, unreachable: retriable as before)."""
    with _lock:
        refused_login = _last_sasl_refusal >= since
    if refused_login:
        return (
            f"authentication failed ({access.security.mechanism}): wrong password or unknown user"
        )
    return _tls_refusal(access)


def _tls_refusal(access: KafkaAccess, timeout_s: float = 3.0) -> str | None:
    """A TLS handshake with the first bootstrap server, checked as the clients check it."""
    host, _, port = access.bootstrap.split(",")[0].strip().rpartition(":")
    try:
        context = ssl.create_default_context(cafile=access.security.ca_file)
    except (OSError, ssl.SSLError) as e:
        return f"CA file {access.security.ca_file} is not usable ({type(e).__name__})"
    try:
        with (
            socket.create_connection((host, int(port)), timeout=timeout_s) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return None  # the certificate is fine: the cause is elsewhere
    except ssl.SSLCertVerificationError as e:
        trusted = access.security.ca_file or "the system's CAs"
        return f"its certificate is not trusted by {trusted} ({e.verify_message})"
    except ssl.SSLError as e:
        return (
            f"no TLS handshake ({e.reason or type(e).__name__}): if the broker is plaintext, "
            "set CASESYNC_KAFKA_SECURITY=plaintext"
        )
    except (OSError, ValueError):
        return None  # nobody answers: unreachable, not refused
