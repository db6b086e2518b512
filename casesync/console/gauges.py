"""What only the console knows, as Prometheus gauges for alert rules: overdue cases, open dead
letters and each region's verdict, taken from its latest sample (the region processes do not
read their own overdue cases or redrives)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from casesync.ops.status import Verdict


class ConsoleGauges:
    """One registry of the console's gauges, set anew from each sample's region cards."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.overdue = Gauge(
            "casesync_overdue_cases", "Open cases past their promised deadline (承诺办结时限)",
            ["region", "side"], registry=self.registry,
        )  # fmt: skip
        self.dead_letters = Gauge(
            "casesync_dead_letters_open", "Dead letters no redrive has resolved",
            ["region", "stage", "error_class"], registry=self.registry,
        )  # fmt: skip
        self.verdict = Gauge(
            "casesync_region_verdict", "ops status verdict: 0 OK, 1 WARN, 2 STALL, 3 STOP, 4 ERR",
            ["region"], registry=self.registry,
        )  # fmt: skip

    def update(self, cards: Iterable[Mapping[str, Any]]) -> None:
        """Replace every series with those of ``cards`` (a class redriven away disappears)."""
        self.overdue.clear()
        self.dead_letters.clear()
        for card in cards:
            code = card["code"]
            self.verdict.labels(code).set(Verdict[card["verdict"]].value)
            if card.get("overdue"):
                for side in ("owned", "mirror"):
                    self.overdue.labels(code, side).set(card["overdue"][side])
            for cause in (card.get("dead_letters") or {}).get("by_class", []):
                self.dead_letters.labels(code, cause["stage"], cause["error_class"]).set(
                    cause["count"]
                )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
