"""One-line answers to "can this process reach its Kafka and PostgreSQL?"."""

from __future__ import annotations

import psycopg2
from kafka import KafkaAdminClient
from kafka.errors import KafkaError, KafkaTimeoutError

from casesync.errors import Unreachable
from casesync.settings import redact_url


def check_kafka(bootstrap: str, timeout_s: float = 10.0) -> None:
    """Raise Unreachable unless a broker at bootstrap answers a describe-cluster request."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            request_timeout_ms=int(timeout_s * 1000),
            bootstrap_timeout_ms=int(timeout_s * 1000),
        )
    except KafkaTimeoutError as e:
        raise Unreachable("Kafka", bootstrap, f"no broker answered within {timeout_s:g} s") from e
    except (KafkaError, ValueError, OSError) as e:
        raise Unreachable("Kafka", bootstrap, f"{type(e).__name__}: {e}") from e
    try:
        admin.describe_cluster()
    except KafkaError as e:
        raise Unreachable("Kafka", bootstrap, f"no answer ({type(e).__name__})") from e
    finally:
        admin.close()


def check_database(url: str, timeout_s: int = 5) -> None:
    """Raise Unreachable unless PostgreSQL at url accepts a connection and a query."""
    try:
        conn = psycopg2.connect(url, connect_timeout=timeout_s)
    except psycopg2.Error as e:
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise Unreachable("PostgreSQL", redact_url(url), reason) from e
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    finally:
        conn.close()
