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

from casesync.adapters.postgres import connect
from casesync.errors import Unreachable
from casesync.settings import redact_url


@contextmanager
def kafka_admin(
    bootstrap: str, timeout_s: float = 30.0, bootstrap_timeout_s: float = 10.0
) -> Iterator[KafkaAdminClient]:
    """An admin client of the cluster at ``bootstrap``, closed after use; Unreachable (one
    line naming the address) when no broker answers, then or while it is used."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
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


def check_kafka(bootstrap: str, timeout_s: float = 10.0) -> None:
    """Raise Unreachable unless a broker at bootstrap answers a describe-cluster request."""
    with kafka_admin(bootstrap, timeout_s, timeout_s) as admin:
        try:
            admin.describe_cluster()
        except KafkaError as e:
            raise Unreachable("Kafka", bootstrap, f"no answer ({type(e).__name__})") from e


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
