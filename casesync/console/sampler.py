"""Samples the watched regions in the background with ``ops status``'s own ``check_region``.

Every ``interval_s`` each region is checked (side by side, one thread each, so they share one
window), the reports become cards, flows and an hour of history, and the whole view is encoded
once: the web side only hands out the latest bytes, however many pages poll.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import structlog

from casesync.console.federation import flows, overall, region_card
from casesync.console.gauges import ConsoleGauges
from casesync.console.history import History
from casesync.console.places import coordinates
from casesync.domain.loading import shipped_catalogue
from casesync.domain.workdays import china_date
from casesync.errors import CasesyncError
from casesync.ops.status import Verdict
from casesync.ops.status_check import StatusOptions, check_region
from casesync.ops.topic_reader import TopicReader
from casesync.settings import Settings

log = structlog.get_logger(__name__)


class Sampler:
    """Keeps the latest view of ``regions`` and their last hour; ``start`` runs it."""

    def __init__(
        self,
        settings: Settings,
        regions: Sequence[str],
        options: StatusOptions,
        interval_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings, self._options, self._interval_s = settings, options, interval_s
        self._clock = clock
        self._catalogue = shipped_catalogue()
        self._names = {code: self._catalogue.region(code).name_zh for code in regions}
        self._regions = tuple(regions)
        self._readers = {code: TopicReader(settings.kafka) for code in regions}
        self.history = History()
        self.gauges = ConsoleGauges()
        self._encoded = json.dumps({"regions": [], "flows": [], "verdict": None}).encode()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="console-sampler", daemon=True)
        self._pool = ThreadPoolExecutor(len(self._regions), thread_name_prefix="console-check")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval_s + self._options.window_s + 30)
        self._pool.shutdown(wait=False)
        for reader in self._readers.values():
            reader.close()

    def latest(self) -> bytes:
        """The latest view as one JSON document."""
        with self._lock:
            return self._encoded

    def sample_once(self) -> dict[str, Any]:
        """Check every region once and publish the view; returns it."""
        reports = dict(zip(self._regions, self._pool.map(self._check, self._regions),
                           strict=True))  # fmt: skip
        cards = {code: region_card(reports[code], self._names[code], coordinates(code))
                 for code in self._regions}  # fmt: skip
        at = self._clock()
        self.history.add(at, cards)
        self.gauges.update(cards.values())
        view = {
            "generated_at": datetime.fromtimestamp(at, UTC).isoformat(),
            "interval_seconds": self._interval_s,
            "verdict": overall(list(cards.values())),
            "regions": list(cards.values()),
            "flows": flows(reports, self._catalogue, china_date(datetime.fromtimestamp(at, UTC))),
            "history": {code: self.history.columns(code) for code in self._regions},
        }
        encoded = json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode()
        with self._lock:
            self._encoded = encoded
        return view

    def _check(self, code: str) -> dict[str, Any]:
        try:
            report = check_region(self._settings, code, self._options,
                                  reader=self._readers[code])  # fmt: skip
        except CasesyncError as e:  # e.g. this process's login refused: shown, not fatal
            report = {"region": code, "checked_at": datetime.now(UTC).isoformat(),
                      "errors": [str(e)], "verdict": Verdict.ERR.name}  # fmt: skip
        if report["errors"]:
            # A broker that went away may leave the client wedged: the next check starts anew.
            self._readers[code].close()
            self._readers[code] = TopicReader(self._settings.kafka)
        return report

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.sample_once()
            except Exception:  # logged: a console that stopped sampling would show stale data
                log.exception("console sample failed; trying again")
            self._stop.wait(max(0.0, self._interval_s - (time.monotonic() - started)))
