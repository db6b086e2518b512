"""The versioned Avro contract of case events and its registry-free single-object codec."""

from casesync.contract.codec import CaseEventCodec, SingleObjectCodec, case_event_codec
from casesync.contract.errors import ContractError
from casesync.contract.schemas import RegisteredSchema, load_versions
from casesync.contract.store import RemoteSchemaSource, SchemaStore

__all__ = [
    "CaseEventCodec",
    "ContractError",
    "RegisteredSchema",
    "RemoteSchemaSource",
    "SchemaStore",
    "SingleObjectCodec",
    "case_event_codec",
    "load_versions",
]
