"""Adaptive batch size: as many events per transaction as keep a transaction near its target time.

Bigger batches amortise the commit and the round trips; smaller ones bound the work a crash
re-reads and the time a rebalance waits. Full, fast batches double the size; slow ones shrink
it in proportion; a failure halves it.
"""

from __future__ import annotations


class BatchSizer:
    """Chooses how many records the next poll may return."""

    def __init__(
        self,
        *,
        initial: int = 1000,
        minimum: int = 50,
        maximum: int = 20_000,
        target_seconds: float = 0.5,
    ) -> None:
        if not 1 <= minimum <= initial <= maximum:
            raise ValueError("need 1 <= minimum <= initial <= maximum")
        self.minimum = minimum
        self.maximum = maximum
        self.target_seconds = target_seconds
        self.size = initial

    def observe(self, records: int, seconds: float) -> None:
        """Learn from a committed batch of ``records`` that took ``seconds``."""
        if seconds > self.target_seconds:
            self.size = max(self.minimum, int(self.size * self.target_seconds / seconds))
        elif records >= self.size and seconds < self.target_seconds / 2:
            self.size = min(self.maximum, self.size * 2)

    def failed(self) -> None:
        """Learn that a batch failed: try a smaller one next."""
        self.size = max(self.minimum, self.size // 2)
