"""A progress bar for long runs: drawn on stderr when it is a terminal, silent otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts work done; redraws at most a few times a second, and only on a terminal."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._enabled = self._stream.isatty()
        self._label = label
        self._total = total
        self._done = 0
        self._started = time.monotonic()
        self._drawn = 0.0

    @property
    def done(self) -> int:
        """Units of work counted so far."""
        return self._done

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more units; redraw when due."""
        self._done += n
        now = time.monotonic()
        if self._enabled and now - self._drawn >= 0.2:
            self._drawn = now
            self._draw(now)

    def finish(self) -> None:
        """Draw the final state and end the line (nothing when not on a terminal)."""
        if self._enabled:
            self._draw(time.monotonic())
            self._stream.write("\n")
            self._stream.flush()

    def _draw(self, now: float) -> None:
        rate = self._done / max(now - self._started, 1e-9)
        if self._total:
            share = min(1.0, self._done / self._total)
            bar = "#" * int(share * 30)
            text = f"{self._label} [{bar:<30}] {self._done}/{self._total} {rate:,.0f}/s"
        else:
            text = f"{self._label} {self._done} {rate:,.0f}/s"
        self._stream.write("\r" + text)
        self._stream.flush()
