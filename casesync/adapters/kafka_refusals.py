"""Why a secured broker did not let a client bootstrap, when the reason is a refusal.

kafka-python retries a refused login until its bootstrap timeout, then raises the same
``KafkaTimeoutError`` as for a broker that is down; the reason reaches its log at best (and not
even there when the broker's close wins the race with its answer). So after such a timeout we
ask the broker ourselves, once, in a few round trips:
  1. a TLS handshake checked as the clients check it (CA file, host name);
  2. ``SaslHandshake`` v1 with the mechanism (``UNSUPPORTED_SASL_MECHANISM`` = 33);
  3. the SCRAM exchange in ``SaslAuthenticate`` v1 requests (``SASL_AUTHENTICATION_FAILED`` =
     58 for a wrong password or an unknown user alike: the broker does not tell them apart).
Anything else (no answer, a reset) is not a refusal: the caller keeps its retriable timeout.
"""

from __future__ import annotations

import socket
import ssl
import struct

from kafka.net.sasl.scram import ScramClient

from casesync.settings import KafkaAccess

SASL_HANDSHAKE, SASL_AUTHENTICATE = 17, 36
UNSUPPORTED_SASL_MECHANISM = 33
PROBE_TIMEOUT_S = 3.0


def explain_refusal(access: KafkaAccess) -> str | None:
    """Why the broker refuses ``access`` (a secured one), or None when it does not refuse it."""
    host, _, port = access.bootstrap.split(",")[0].strip().rpartition(":")
    security = access.security
    try:
        context = ssl.create_default_context(cafile=security.ca_file)
    except (OSError, ssl.SSLError) as e:
        return f"CA file {security.ca_file} is not usable ({type(e).__name__})"
    try:
        with (
            socket.create_connection((host, int(port)), timeout=PROBE_TIMEOUT_S) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            return _sasl_refusal(tls, access)
    except ssl.SSLCertVerificationError as e:
        trusted = security.ca_file or "the system's CAs"
        return f"its certificate is not trusted by {trusted} ({e.verify_message})"
    except ssl.SSLError as e:
        return (
            f"no TLS handshake ({e.reason or type(e).__name__}): if the broker is plaintext, "
            "set CASESYNC_KAFKA_SECURITY=plaintext"
        )
    except (OSError, ValueError, struct.error):
        return None  # nobody answers, or not in Kafka's words: unreachable, not refused


def _sasl_refusal(sock: ssl.SSLSocket, access: KafkaAccess) -> str | None:
    security = access.security
    mechanism = security.mechanism
    answer = _call(sock, SASL_HANDSHAKE, 1, _string(mechanism.encode()))
    if _int16(answer, 0) == UNSUPPORTED_SASL_MECHANISM:
        return f"the broker does not offer {mechanism} (CASESYNC_KAFKA_SASL_MECHANISM)"
    scram = ScramClient(security.username or "", security.password or "", mechanism)
    error, server_first = _authenticate(sock, scram.first_message())
    if error == 0:
        scram.process_server_first_message(server_first)
        error, _ = _authenticate(sock, scram.final_message())
    if error == 0:
        return None
    return f"authentication failed ({mechanism}): wrong password or unknown user"


def _authenticate(sock: ssl.SSLSocket, auth_bytes: bytes) -> tuple[int, bytes]:
    """One SaslAuthenticate v1 round trip: (error code, the server's auth bytes)."""
    answer = _call(sock, SASL_AUTHENTICATE, 1, struct.pack(">i", len(auth_bytes)) + auth_bytes)
    error = _int16(answer, 0)
    message_length = _int16(answer, 2)  # nullable string: -1 for none
    at = 4 + max(message_length, 0)
    (length,) = struct.unpack_from(">i", answer, at)
    return error, answer[at + 4 : at + 4 + max(length, 0)]


def _call(sock: ssl.SSLSocket, api_key: int, version: int, body: bytes) -> bytes:
    """Send one request (header v1, correlation id 1) and return the response body."""
    header = struct.pack(">hhi", api_key, version, 1) + _string(b"casesync-probe")
    request = header + body
    sock.sendall(struct.pack(">i", len(request)) + request)
    (size,) = struct.unpack(">i", _read(sock, 4))
    return _read(sock, size)[4:]  # after the response header's correlation id


def _read(sock: ssl.SSLSocket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionResetError("the broker closed the connection")
        data += chunk
    return data


def _string(value: bytes) -> bytes:
    return struct.pack(">h", len(value)) + value


def _int16(data: bytes, at: int) -> int:
    (value,) = struct.unpack_from(">h", data, at)
    return int(value)
