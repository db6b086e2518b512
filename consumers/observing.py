"""The consumer's Prometheus figures, updated once per committed batch."""

from __future__ import annotations

from typing import Any

from kafka import TopicPartition

from casesync.metrics import Metrics
from consumers.applier import BatchOutcome


class ConsumerMetrics:
    def __init__(self, metrics: Metrics, region: str) -> None:
        self._metrics = metrics
        self._region = region

    def observe(self, consumer: Any, outcome: BatchOutcome, records: int, seconds: float) -> None:
        m, region = self._metrics, self._region
        m.consumer_batch.labels(region).observe(records)
        m.apply_seconds.labels(region).observe(seconds)
        for source, latencies in outcome.sync_latencies.items():
            m.applied.labels(region, source).inc(len(latencies))
            histogram = m.sync_latency.labels(region, source)
            for latency in latencies:
                histogram.observe(latency)
        for error_class, count in outcome.dead_by_class.items():
            m.dead_lettered.labels(region, error_class).inc(count)
        for (topic, partition), offset in outcome.next_offsets.items():
            # The high watermark comes with every fetch response: no extra request.
            end = consumer.highwater(TopicPartition(topic, partition))
            if end is not None:
                m.lag.labels(region, topic, str(partition)).set(max(0, end - offset))
