"""A committed batch updates the consumer's Prometheus figures."""

from __future__ import annotations

from collections import Counter
from typing import Any

from casesync.metrics import Metrics
from consumers.applier import BatchOutcome
from consumers.observing import ConsumerMetrics


class _HighWatermarks:
    """Stands in for kafka-python's consumer: only the high watermark is read."""

    def highwater(self, tp: Any) -> int:
        return 120


def _value(metrics: Metrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    assert found is not None, name
    return found


def test_batch_outcome_becomes_counts_latencies_dead_letters_and_lag() -> None:
    """Applied events count per source, latencies land in the histogram, lag = end - position."""
    metrics = Metrics()
    outcome = BatchOutcome(
        next_offsets={("casesync.inbox.330483", 2): 100},
        applied=3,
        dead_lettered=1,
        transactions=1,
        sync_latencies={"320623": [0.02, 0.03, 0.5]},
        dead_by_class=Counter({"SpoofedSource": 1}),
    )
    ConsumerMetrics(metrics, "330483").observe(_HighWatermarks(), outcome, 4, 0.05)
    labels = {"region": "330483", "source": "320623"}
    assert _value(metrics, "casesync_consumer_applied_total", **labels) == 3
    assert _value(metrics, "casesync_sync_latency_seconds_count", **labels) == 3
    assert _value(metrics, "casesync_sync_latency_seconds_bucket", le="0.05", **labels) == 2
    assert _value(metrics, "casesync_consumer_dead_letters_total", region="330483",
                  reason="SpoofedSource") == 1  # fmt: skip
    assert _value(metrics, "casesync_consumer_lag", region="330483",
                  topic="casesync.inbox.330483", partition="2") == 20  # fmt: skip
