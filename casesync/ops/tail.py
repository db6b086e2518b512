"""Records as JSON lines for people: decoded events, personal data masked, never a crash.

``describe`` is pure given a decode function: a record that does not decode is printed with an
``error`` field (and the size of its value, never its bytes, which may hold an ID number).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from casesync.contract.errors import ContractError
from casesync.ops.topic_reader import RawRecord

MASK = "***"
# Fields of the applicant that are personal data (居民身份证号码) or identify a company.
PERSONAL_FIELDS = ("id_number", "credit_code")

DecodeRecord = Callable[[bytes], Mapping[str, Any]]


def mask_personal(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with the applicant's ID number and credit code masked, and a person's name
    but its first character (the surname, as Chinese counters do), in place."""
    snapshot = record.get("snapshot")
    applicant = snapshot.get("applicant") if isinstance(snapshot, dict) else None
    if isinstance(applicant, dict):
        for name in PERSONAL_FIELDS:
            if applicant.get(name) is not None:
                applicant[name] = MASK
        person = applicant.get("name")
        if applicant.get("kind") != "COMPANY" and isinstance(person, str) and person:
            applicant["name"] = person[0] + "*" * (len(person) - 1)
    return record


def describe(
    record: RawRecord, decode: DecodeRecord, *, show_personal_data: bool = False
) -> dict[str, Any]:
    """One record as plain JSON values: position, time, key, headers and the decoded value."""
    line: dict[str, Any] = {
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": datetime.fromtimestamp(record.timestamp_ms / 1000, UTC).isoformat(),
        "key": _text_or_base64(record.key),
        "headers": {k: _text_or_base64(v) for k, v in record.headers},
    }
    if record.value is None:
        line["error"] = "record has no value (a tombstone)"
        return line
    try:
        value = dict(decode(record.value))
    except ContractError as e:
        line["error"] = f"{type(e).__name__}: {e}"
        line["value_size"] = len(record.value)
        return line
    line["value"] = value if show_personal_data else mask_personal(value)
    return line


def to_json_line(line: Mapping[str, Any]) -> str:
    """One JSON line; dates and times ISO-8601, bytes base64, Chinese text as it is."""
    return json.dumps(line, ensure_ascii=False, default=json_default, sort_keys=False)


def json_default(value: object) -> object:
    """JSON for what ``json`` cannot write: dates and times ISO-8601, bytes base64."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)


def _text_or_base64(value: bytes | None) -> str | None:
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(value).decode()
