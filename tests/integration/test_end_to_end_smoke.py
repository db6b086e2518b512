"""The infrastructure is real end to end: admin, Avro, producer, consumer group, PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Callable

import fastavro
import psycopg2
import pytest
from kafka.admin import NewTopic

from casesync.adapters.kafka_clients import new_admin, new_consumer, new_producer
from casesync.testing import Services

pytestmark = pytest.mark.integration

SCHEMA = fastavro.parse_schema(
    {
        "type": "record",
        "name": "Smoke",
        "namespace": "casesync.test",
        "fields": [
            {"name": "case_id", "type": "string"},
            {"name": "state", "type": "string"},
            {"name": "version", "type": "long"},
        ],
    }
)


def test_record_travels_from_avro_producer_through_consumer_group_into_postgres(
    casesync_services: Services, fresh_database_url: str, unique_name: Callable[[str], str]
) -> None:
    """A record produced to a new topic is consumed by a group, decoded and upserted as a row."""
    topic = unique_name("casesync.smoke")
    admin = new_admin(casesync_services.kafka)
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    admin.close()

    body = io.BytesIO()
    fastavro.schemaless_writer(
        body, SCHEMA, {"case_id": "320623-0001", "state": "ACCEPTED", "version": 2}
    )
    producer = new_producer(casesync_services.kafka, acks="all")
    producer.send(topic, key=b"320623-0001", value=body.getvalue()).get(timeout=30)
    producer.close()

    consumer = new_consumer(
        casesync_services.kafka,
        topic,
        group_id=unique_name("smoke-group"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=20_000,
    )
    message = next(iter(consumer))
    consumer.commit()
    consumer.close()
    record = fastavro.schemaless_reader(io.BytesIO(message.value), SCHEMA, SCHEMA)

    with psycopg2.connect(fresh_database_url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE cases (case_id text PRIMARY KEY, state text, version bigint)")
        cur.execute(
            "INSERT INTO cases VALUES (%(case_id)s, %(state)s, %(version)s) "
            "ON CONFLICT (case_id) DO UPDATE "
            "SET state = EXCLUDED.state, version = EXCLUDED.version",
            record,
        )
        cur.execute("SELECT case_id, state, version FROM cases")
        assert cur.fetchall() == [("320623-0001", "ACCEPTED", 2)]
    assert message.key == b"320623-0001"
