"""Ports handed to a test's own servers lie below the kernel's ephemeral range, so no outgoing
connection can take one between choosing it and the server binding it."""

from __future__ import annotations

import socket

from infra.paths import _ephemeral_range, free_ports


def test_a_run_of_free_ports_lies_below_the_ephemeral_range_and_each_can_be_bound() -> None:
    """Six consecutive ports, all below the range `bind(0)` draws from, each bindable now."""
    first = free_ports(6)
    low, _ = _ephemeral_range()
    assert first >= 20000
    assert first + 6 <= low
    for port in range(first, first + 6):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
