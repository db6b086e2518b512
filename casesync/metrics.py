"""Prometheus metrics of relay and consumer processes.

Each process creates one ``Metrics`` (its own registry, so tests and several regions in one
process never collide) and may serve it over HTTP with ``serve``; names follow Prometheus
conventions (``_total`` counters, ``_seconds`` histograms).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from casesync.errors import ConfigError

# Sync latency is judged against limits of working days, but must stay in the sub-second range.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_BATCH_BUCKETS = (1, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 20000)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.published = Counter(
            "casesync_relay_published_total", "Outbox events acknowledged by the broker",
            ["region"], registry=r,
        )  # fmt: skip
        self.relay_batch = Histogram(
            "casesync_relay_batch_size", "Events per relayed batch", ["region"],
            buckets=_BATCH_BUCKETS, registry=r,
        )  # fmt: skip
        self.outbox_backlog = Gauge(
            "casesync_outbox_backlog", "Unpublished outbox rows", ["region"], registry=r
        )
        self.outbox_oldest_age = Gauge(
            "casesync_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row",
            ["region"], registry=r,
        )  # fmt: skip
        self.relay_outage = Gauge(
            "casesync_relay_outage_seconds",
            "How long the relay has been unable to publish (0 while it publishes)",
            ["region"], registry=r,
        )  # fmt: skip
        self.relay_held = Gauge(
            "casesync_relay_held_rows",
            "Outbox rows held because an inbox they go to is missing or may not be written",
            ["region"], registry=r,
        )  # fmt: skip
        self.relay_broker_failures = Counter(
            "casesync_relay_broker_failures_total",
            "Producers the relay discarded after a failed send, bootstrap or wedge",
            ["region"], registry=r,
        )  # fmt: skip
        self.applied = Counter(
            "casesync_consumer_applied_total", "Partner events applied to the mirror",
            ["region", "source"], registry=r,
        )  # fmt: skip
        self.dead_lettered = Counter(
            "casesync_consumer_dead_letters_total", "Events dead-lettered, by error class",
            ["region", "reason"], registry=r,
        )  # fmt: skip
        self.consumer_batch = Histogram(
            "casesync_consumer_batch_size", "Events per applied batch", ["region"],
            buckets=_BATCH_BUCKETS, registry=r,
        )  # fmt: skip
        self.apply_seconds = Histogram(
            "casesync_consumer_apply_seconds", "Time to apply one batch in PostgreSQL",
            ["region"], buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.sync_latency = Histogram(
            "casesync_sync_latency_seconds",
            "From the source's change (occurred_at) to the partner's commit of it",
            ["region", "source"], buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.lag = Gauge(
            "casesync_consumer_lag", "Messages between the applied position and the end offset",
            ["region", "topic", "partition"], registry=r,
        )  # fmt: skip


def serve(metrics: Metrics, port: int, host: str = "127.0.0.1") -> None:
    """Expose ``/metrics`` on host:port from a daemon thread; ConfigError if the port is taken."""
    try:
        start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as e:
        raise ConfigError(f"cannot serve metrics on {host}:{port}: {e.strerror}") from e
