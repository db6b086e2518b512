"""The demo with its console on, stopped the way a service manager stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from casesync.testing import Services
from infra.paths import free_ports

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def children_of(pid: int) -> set[int]:
    tasks = Path(f"/proc/{pid}/task")
    found: set[int] = set()
    for task in tasks.iterdir() if tasks.exists() else ():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_sigterm_after_the_summary_stops_every_region_and_the_console(
    casesync_services: Services, tmp_path: Path
) -> None:
    """SIGTERM to `casesync demo --console` while it keeps the regions running ends the demo and
    every process it started: no region service or console is left behind."""
    port = free_ports()
    log = tmp_path / "demo.out"
    with log.open("wb") as sink:
        demo = subprocess.Popen(
            [sys.executable, "-m", "casesync", "demo", "--cases", "20", "--console", str(port)],
            env=os.environ.copy(), stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while b"regions still running" not in log.read_bytes():
            assert demo.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1)
        started = children_of(demo.pid)
        assert len(started) >= 5, started  # four regions and the console
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=60)
        left = {pid for pid in started if alive(pid)}
        assert not left, f"left running after SIGTERM: {left}"
    finally:
        if demo.poll() is None:
            demo.kill()
