"""Real regions exchanging traffic, the console watching them, and a headless Chromium reading
the page as a person would see it (the DOM after the page's scripts ran)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from casesync.adapters.postgres import drop_database, with_database
from casesync.adapters.topics import delete_topics_with_prefix
from casesync.cli.region import init_region
from casesync.settings import Settings
from casesync.testing import Services
from casesync.testing_trust import TestTrust
from infra.paths import free_ports

RUDONG, TONGXIANG = "320623", "330483"


class Elements(HTMLParser):
    """Every element's attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append({"tag": tag, **{k: v or "" for k, v in attrs}})


@dataclass
class Browser:
    """Headless Chromium loading one URL per look."""

    binary: str
    profile: Path

    def look(self, url: str) -> list[dict[str, str]]:
        """The page's elements once its scripts have run for a few (virtual) seconds."""
        result = subprocess.run(
            [self.binary, "--headless", "--no-sandbox", "--disable-gpu",
             f"--user-data-dir={self.profile}", "--virtual-time-budget=4000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        parser = Elements()
        parser.feed(result.stdout)
        return parser.found

    def wait_for(self, url: str, seen: Callable[[list[dict[str, str]]], bool], timeout: float,
                 what: str) -> list[dict[str, str]]:  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            page = self.look(url)
            if seen(page):
                return page
            assert time.monotonic() < deadline, f"not on the page within {timeout:.0f} s: {what}"
            time.sleep(2)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless; missing, the test fails and says how to get it."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("chromium is missing: `apt-get install -y chromium` (make setup as root)")
    with tempfile.TemporaryDirectory(prefix="casesync-chromium-") as profile:
        yield Browser(binary, Path(profile))


@dataclass
class Federation:
    """Regions on a database pattern and topic prefix of their own, their processes, the console."""

    settings: Settings
    logs: Path
    trust: dict[str, str]  # every region signs and verifies (CASESYNC_TRUST_* variables)
    console_url: str = ""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        return {**os.environ, **self.settings.kafka.environment(), **self.trust,
                "CASESYNC_DATABASE_URL": self.settings.database_url,
                "CASESYNC_TOPIC_PREFIX": self.settings.topic_prefix}  # fmt: skip

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """``casesync <args>`` as a process of its own, logging to ``<logs>/<name>.log``."""
        with (self.logs / f"{name}.log").open("ab") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "casesync", "--log-json", *args],
                env=self.environment(), stdin=subprocess.DEVNULL, stdout=sink, stderr=sink,
            )  # fmt: skip
        self.processes[name] = process
        return process

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()

    def url(self, region: str) -> str:
        return self.settings.region_database_url(region)


@pytest.fixture(scope="module")
def federation(
    casesync_services: Services, casesync_trust: TestTrust, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    """Rudong (one ``casesync run``) and Tongxiang (its relay and its consumer as two processes)
    with Rudong's cases flowing to Tongxiang, and ``casesync ops console`` watching both."""
    run = uuid.uuid4().hex[:8]
    settings = Settings.from_env({
        **os.environ, **casesync_services.kafka.environment(), **casesync_trust.environment(),
        "CASESYNC_DATABASE_URL": with_database(casesync_services.database_url,
                                               f"console_{run}_{{region}}"),
        "CASESYNC_TOPIC_PREFIX": f"t.console{run}.",
    })  # fmt: skip
    federation = Federation(
        settings, tmp_path_factory.mktemp("federation"), casesync_trust.environment()
    )
    try:
        for code in (RUDONG, TONGXIANG):
            init_region(settings, code)
        federation.spawn("rudong-run", "run", "--region", RUDONG)
        federation.spawn("tongxiang-relay", "relay", "--region", TONGXIANG)
        federation.spawn("tongxiang-consume", "consume", "--region", TONGXIANG)
        federation.spawn("rudong-simulate", "simulate", "--region", RUDONG, "--cases", "400",
                         "--rate", "10", "--partner", TONGXIANG, "--seed", "1")  # fmt: skip
        port = free_ports()
        watched = ("--region", RUDONG, "--region", TONGXIANG)
        federation.spawn("console", "ops", "console", "--port", str(port), "--interval", "1",
                         "--stop-after", "20", *watched)  # fmt: skip
        federation.console_url = f"http://127.0.0.1:{port}/"
        yield federation
    finally:
        for name in list(federation.processes):
            federation.stop(name)
        delete_topics_with_prefix(settings.kafka, settings.topic_prefix)
        for code in (RUDONG, TONGXIANG):
            drop_database(federation.url(code))
