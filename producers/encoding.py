"""Encode outbox rows recorded through SQL (``casesync_api.record_change``) into Avro, in place.

SQL cannot write Avro, so such a row arrives with its event as JSON and no payload. The region's
relay calls ``encode_pending`` before it fetches: each row gets its payload under the same id,
so each case's events stay in version order, or a refusal reason when the event may not be
published (the row is kept; ``casesync_api.refused_changes`` shows it to the regional system).
The relay's fetch stops at the first row still unencoded (``producers.outbox_store``), so a row
committed between an encoding pass and a fetch waits for the next pass instead of overtaking.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from psycopg2 import Binary
from psycopg2.extras import execute_values

from casesync.adapters.postgres import Connection, transaction
from casesync.contract.codec import CaseEventCodec
from casesync.contract.errors import ContractError
from casesync.domain.catalogue import Catalogue
from producers.errors import RefusedChange
from producers.pending import event_from_pending, refusal_reason

log = structlog.get_logger(__name__)

# The oldest unencoded rows, locked so that two callers never encode one row twice; the partial
# index outbox_unencoded (migration 006) makes this free while the queue is empty.
_PENDING = (
    "SELECT id, case_id, event_id::text, pending_event FROM outbox"
    " WHERE payload IS NULL AND refused_reason IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"
)


@dataclass(frozen=True, slots=True)
class EncodeResult:
    """What one ``encode_pending`` pass did."""

    encoded: int
    refused: int


def encode_pending(
    conn: Connection, codec: CaseEventCodec, catalogue: Catalogue, limit: int = 1000
) -> EncodeResult:
    """Encode up to ``limit`` SQL-recorded outbox rows, oldest first, in one transaction.

    Steps:
      1. lock the oldest unencoded rows (``_PENDING``);
      2. rebuild and check each event (``producers.pending``) and encode it;
      3. write each payload in place of its JSON, or the reason it is refused; commit.
    Works on an autocommit connection (the relay's) as on any other.
    """
    autocommit = conn.autocommit
    conn.autocommit = False
    try:
        with transaction(conn) as cur:
            cur.execute(_PENDING, (limit,))
            encoded: list[tuple[int, object]] = []
            refused: list[tuple[int, str]] = []
            for row_id, case_id, event_id, pending in cur.fetchall():
                try:
                    payload = codec.encode(event_from_pending(pending, catalogue))
                except (RefusedChange, ContractError) as e:
                    reason = str(e) if isinstance(e, RefusedChange) else refusal_reason(e)
                    refused.append((row_id, reason))
                    log.warning("change refused", case_id=case_id, event_id=event_id, reason=reason)
                    continue
                encoded.append((row_id, Binary(payload)))
            if encoded:
                execute_values(
                    cur,
                    "UPDATE outbox AS o SET payload = v.payload, pending_event = NULL"
                    " FROM (VALUES %s) AS v (id, payload) WHERE o.id = v.id",
                    encoded,
                )
            if refused:
                execute_values(
                    cur,
                    "UPDATE outbox AS o SET refused_reason = v.reason"
                    " FROM (VALUES %s) AS v (id, reason) WHERE o.id = v.id",
                    refused,
                )
    finally:
        conn.autocommit = autocommit
    return EncodeResult(len(encoded), len(refused))
