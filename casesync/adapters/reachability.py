"""One-line answers to "can this process reach its Kafka and PostgreSQL?".

``kafka_admin`` is also how other adapters talk to the cluster's admin API, so a broker that
does not answer is the same one-line ``Unreachable`` everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
from kafka import KafkaAdminClient
from kafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError

from casesync.adapters.kafka_clients import new_admin
from casesync.adapters.postgres import connect
from casesync.errors import Unreachable
from casesync.settings import KafkaAccess, redact_url


@contextmanager
def kafka_admin(
    kafka: KafkaAccess, timeout_s: float = 30.0, bootstrap_timeout_s: float = 8.0
) -> Iterator[KafkaAdminClient]:
    """An admin client of the cluster ``kafka`` names, closed after use; Unreachable (one
    line naming the address) when no broker answers, then or while it is used, and
    AccessRefused (one line naming the user) when the broker refuses the credentials."""
    bootstrap = kafka.bootstrap
    try:
        admin = new_admin(
            kafka,
            request_timeout_ms=int(timeout_s * 1000),
            bootstrap_timeout_ms=int(bootstrap_timeout_s * 1000),
        )
    except KafkaTimeoutError as e:
        reason = f"no broker answered within {bootstrap_timeout_s:g} s"
        raise Unreachable("Kafka", bootstrap, reason) from e
    except (KafkaError, ValueError, OSError) as e:
        raise Unreachable("Kafka", bootstrap, f"{type(e).__name__}: {e}") from e
    try:
        yield admin
    except (KafkaTimeoutError, KafkaConnectionError) as e:
        raise Unreachable("Kafka", bootstrap, f"no answer ({type(e).__name__})") from e
    finally:
        admin.close()


def check_kafka(kafka: KafkaAccess, timeout_s: float = 8.0) -> None:
    """Raise Unreachable unless the broker ``kafka`` names answers a describe-cluster request
    (AccessRefused when it refuses the credentials)."""
    with kafka_admin(kafka, timeout_s, timeout_s) as admin:
        try:
            admin.describe_cluster()
        except KafkaError as e:
            raise Unreachable("Kafka", kafka.bootstrap, f"no answer ({type(e).__name__})") from e


def check_database(url: str, timeout_s: int = 5) -> None:
    """Raise Unreachable unless PostgreSQL at url accepts a connection and a query."""
    conn = connect(url, timeout_s=timeout_s)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    except psycopg2.Error as e:
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise Unreachable("PostgreSQL", redact_url(url), reason) from e
    finally:
        conn.close()
