"""The consumer's apply code, composed without Kafka: for replaying recordings and redriving.

Wired as ``consumers.compose.build_consumer`` wires it (triage, codec, database, workflow
answers), minus the group runner and the DLQ publisher: dead letters stay in the table, and
``casesync consume`` publishes them to the DLQ topic the next time it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from casesync.adapters.postgres import connect, ensure_database
from casesync.contract.codec import CaseEventCodec, case_event_codec
from casesync.contract.store import RemoteSchemaSource
from casesync.domain.holidays import shipped_calendar
from casesync.domain.loading import shipped_catalogue
from consumers.applier import BatchApplier
from consumers.database import Database
from consumers.reactions import Reactor
from consumers.schema import migrate_region
from consumers.triage import Triage
from consumers.verification import VerifyStep
from producers.recorder import CaseRecorder


class StaticSchemas:
    """A schema source from a fixed table (a recording's), for work without a broker."""

    def __init__(self, schemas: Mapping[str, str]) -> None:
        self._schemas = dict(schemas)

    def fetch(self, fingerprint_hex: str) -> str | None:
        """The schema under this fingerprint, if the table has it."""
        return self._schemas.get(fingerprint_hex)

    def publish(self, fingerprint_hex: str, schema_json: str) -> None:
        """Keep the schema in the table (nothing leaves the process)."""
        self._schemas[fingerprint_hex] = schema_json


@dataclass(frozen=True, slots=True)
class ApplyParts:
    """One region's apply code and the pieces it is made of."""

    codec: CaseEventCodec
    triage: Triage
    database: Database
    reactor: Reactor
    applier: BatchApplier


def prepare_region_database(url: str) -> None:
    """Create the region database if missing and apply every region migration (idempotent)."""
    ensure_database(url)
    conn = connect(url, application_name="casesync-ops")
    try:
        migrate_region(conn)
    finally:
        conn.close()


def build_apply_parts(
    region: str,
    database_url: str,
    schemas: RemoteSchemaSource | None,
    verify: VerifyStep | None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ApplyParts:
    """The apply code of ``region`` over its database (no I/O until used); ``verify`` checks
    each record's signature first, as the consumer does (``consumers.compose.verify_step``)."""
    catalogue = shipped_catalogue()
    codec = case_event_codec(remote=schemas)
    database = Database(database_url, application_name="casesync-ops")
    recorder = CaseRecorder(region, catalogue, shipped_calendar(), codec)
    reactor = Reactor(recorder, catalogue, clock)
    triage = Triage(region, catalogue, codec.decode, verify)
    return ApplyParts(
        codec, triage, database, reactor, BatchApplier(triage, codec.decode, database, reactor)
    )
