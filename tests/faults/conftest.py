"""Fault tests stop, freeze and restart the real services: they need the local launchers.

``make test-faults`` runs them on a stack of their own (``.run/faults``, its own ports), so the
services of ``make up`` are never touched.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterable

import pytest

from casesync.testing import Services


@pytest.fixture(autouse=True)
def _local_services_only(casesync_services: Services) -> None:
    if casesync_services.provider != "local":
        pytest.fail(
            "fault tests stop and start the broker and the database: run them with the local "
            f"launchers (`make test-faults`), not {casesync_services.provider} services"
        )


def stop_processes(processes: Iterable[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every process still running, then wait for each (SIGKILL after a minute)."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
