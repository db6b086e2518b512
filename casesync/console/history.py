"""The last hour of a few figures per region, kept in memory for the console's charts: pure.

Each sample adds one point per region (applied/s, sync latency p50/p99, inbox lag in records
and seconds, outbox backlog); points older than ``span_s`` are dropped. ``columns`` gives
them in the column layout uPlot draws: times first, then one list per figure.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

FIGURES = ("applied_per_second", "latency_p50_s", "latency_p99_s", "lag", "lag_seconds",
           "outbox_backlog")  # fmt: skip


def figures_of(card: Mapping[str, Any]) -> tuple[float | None, ...]:
    """The charted figures of one region card (None where the report had no such part)."""
    outbox = card.get("outbox") or {}
    return (
        card["applied"]["per_second"],
        card["applied"]["latency_p50_s"],
        card["applied"]["latency_p99_s"],
        card["inbox"]["lag"],
        card["inbox"]["lag_seconds"],
        outbox.get("backlog"),
    )


class History:
    """Points per region, oldest first, at most ``span_s`` old."""

    def __init__(self, span_s: float = 3600.0) -> None:
        self.span_s = span_s
        self._points: dict[str, deque[tuple[float, tuple[float | None, ...]]]] = {}

    def add(self, at: float, cards: Mapping[str, Mapping[str, Any]]) -> None:
        """Record each region's figures at ``at`` (seconds since the epoch)."""
        for code, card in cards.items():
            points = self._points.setdefault(code, deque())
            points.append((at, figures_of(card)))
            while points and points[0][0] < at - self.span_s:
                points.popleft()

    def columns(self, code: str) -> dict[str, list[Any]]:
        """{"t": [...], figure: [...], ...} for one region (empty lists if never sampled)."""
        points = self._points.get(code, deque())
        series: dict[str, list[Any]] = {"t": [at for at, _ in points]}
        for i, figure in enumerate(FIGURES):
            series[figure] = [values[i] for _, values in points]
        return series
