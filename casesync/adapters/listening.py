"""A listening TCP socket, bound before a web server starts: a taken port is one clear line."""

from __future__ import annotations

import socket

from casesync.errors import PortUnavailable


def bind(host: str, port: int, *, what: str) -> socket.socket:
    """The socket ``what`` (e.g. "the console") listens on; PortUnavailable when it cannot."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise PortUnavailable(f"{what} cannot listen on {host}:{port}: {e.strerror}") from e
    return sock
