"""Composition root of a region's producer side: settings in, ready-to-use parts out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import structlog
from kafka import KafkaProducer
from kafka.partitioner import DefaultPartitioner

from casesync.adapters.kafka_clients import new_producer
from casesync.adapters.partitioning import CachedKeyPartitioner
from casesync.adapters.postgres import Connection, connect, transaction
from casesync.adapters.schema_topic import KafkaSchemaSource
from casesync.adapters.topics import TopicNames, existing_topics
from casesync.adapters.trust_anchor import trust_anchor
from casesync.contract.codec import CaseEventCodec, case_event_codec
from casesync.contract.schemas import RegisteredSchema, load_versions
from casesync.domain.events import CaseEvent
from casesync.domain.holidays import shipped_calendar
from casesync.domain.loading import shipped_catalogue
from casesync.errors import ConfigError
from casesync.metrics import Metrics
from casesync.settings import DEFAULT_RELAY_LINGER_MS, KafkaAccess, Settings
from casesync.trust.keys import load_signing_key, region_key_files
from producers.changes import CaseChange
from producers.encoding import encode_pending
from producers.intake_rules import rule_rows
from producers.intake_store import load_rules
from producers.outbox_store import OutboxStore
from producers.recorder import CaseRecorder
from producers.relay import Relay, RelayConfig
from producers.routing import Inboxes
from producers.signing import RelaySigner

log = structlog.get_logger(__name__)


def load_recording_rules(conn: Connection, region: str) -> None:
    """Materialise the shipped rules into the region database's ``casesync_rules`` tables,
    which ``casesync_api.record_change`` enforces (every init reloads them, in one transaction)."""
    rules = rule_rows(region, shipped_catalogue(), shipped_calendar())
    with transaction(conn) as cur:
        load_rules(cur, rules)


def build_recorder(region: str) -> CaseRecorder:
    """A recorder for the region's own changes (encoding needs no broker)."""
    return CaseRecorder(region, shipped_catalogue(), shipped_calendar(), build_codec())


def record_committed(
    recorder: CaseRecorder,
    url: str,
    changes: Sequence[CaseChange],
    application_name: str = "casesync",
) -> list[CaseEvent]:
    """Record ``changes`` in one transaction of their own, on a connection opened for it, as a
    regional system would; their events exist once this returns."""
    conn = connect(url, application_name=application_name)
    try:
        with transaction(conn) as cur:
            return recorder.record_many(cur, changes)
    finally:
        conn.close()


def record_in_batches(
    conn: Connection, recorder: CaseRecorder, changes: Iterable[CaseChange], batch_size: int
) -> Iterator[int]:
    """Record ``changes`` on ``conn``, ``batch_size`` to a transaction; after each commit,
    yield how many are recorded so far (stop iterating to stop between transactions)."""
    batch: list[CaseChange] = []
    done = 0

    def commit() -> int:
        with transaction(conn) as cur:
            recorder.record_many(cur, batch)
        recorded = len(batch)
        batch.clear()
        return recorded

    for change in changes:
        batch.append(change)
        if len(batch) >= batch_size:
            done += commit()
            yield done
    if batch:
        done += commit()
        yield done


def build_codec() -> CaseEventCodec:
    """The codec a region writes with; the relay publishes its schema, so no broker here."""
    return case_event_codec()


def kafka_producer(
    kafka: KafkaAccess,
    *,
    delivery_timeout_s: float = 120.0,
    linger_ms: int = DEFAULT_RELAY_LINGER_MS,
    remember_partitions: bool = True,
) -> KafkaProducer:
    """The relay's producer: idempotent, acks=all, batched for throughput; a batch that is not
    full waits ``linger_ms`` for more records (``Settings.relay_linger_ms``).

    ``remember_partitions=False`` leaves kafka-python's own partitioner (for baselines).
    """
    return new_producer(
        kafka,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        batch_size=256 * 1024,
        max_in_flight_requests_per_connection=5,
        # Rides out a broker restart without failing sends; past it the relay rebuilds the
        # producer and resends from its outbox.
        delivery_timeout_ms=int(delivery_timeout_s * 1000),
        # kafka-python wants the delivery timeout above linger plus request timeout.
        request_timeout_ms=int(min(30.0, delivery_timeout_s / 3) * 1000),
        # A healthy broker answers metadata in milliseconds; with it away, a send or a new
        # producer gives up soon, so the relay stays responsive and says what is wrong.
        max_block_ms=10_000,
        bootstrap_timeout_ms=10_000,
        partitioner=CachedKeyPartitioner() if remember_partitions else DefaultPartitioner(),
    )


def _principal(settings: Settings) -> str:
    """Who the relay is to the broker, for the reason it gives when rows are held."""
    security = settings.kafka.security
    return f"User:{security.username}" if security.secured else "an anonymous plaintext client"


def build_relay(
    settings: Settings,
    region: str,
    config: RelayConfig | None = None,
    metrics: Metrics | None = None,
) -> Relay:
    names = TopicNames(settings.topic_prefix)
    schema_source = KafkaSchemaSource(settings.kafka, names.schemas)
    schemas: dict[bytes, RegisteredSchema] = {s.fingerprint: s for s in load_versions()}
    delivery_timeout_s, linger_ms = settings.kafka_delivery_timeout_s, settings.relay_linger_ms
    codec, catalogue = build_codec(), shipped_catalogue()
    batch_size = (config or RelayConfig()).batch_size
    return Relay(
        region,
        OutboxStore(settings.region_database_url(region)),
        lambda: kafka_producer(
            settings.kafka, delivery_timeout_s=delivery_timeout_s, linger_ms=linger_ms
        ),
        schemas,
        lambda schema: schema_source.publish(schema.fingerprint_hex, schema.schema_json),
        Inboxes(names, lambda: existing_topics(settings.kafka), principal=_principal(settings)),
        config,
        metrics=metrics,
        encode_pending=lambda conn: encode_pending(conn, codec, catalogue, limit=batch_size),
        signer=relay_signer(settings, region),
    )


def relay_signer(settings: Settings, region: str) -> RelaySigner | None:
    """The relay's signer, ready: ConfigError (one line, exit 2) when signing is on and the
    region has no key the manifest in force lists as valid now; None when signing is off."""
    if not settings.signing:
        log.warning("signing is off (CASESYNC_SIGNING=off): records go out unsigned, and "
                    "partners that verify refuse them", region=region)  # fmt: skip
        return None
    files = region_key_files(settings.signing_key_dir, region)
    if not files:
        raise ConfigError(
            f"signing is on but region {region} has no key in {settings.signing_key_dir} "
            "(CASESYNC_SIGNING_KEY_DIR; make one with `casesync keys new`)"
        )
    signer = RelaySigner(
        region, [load_signing_key(f, region) for f in files], trust_anchor(settings)
    )
    signer.check_ready()
    return signer
