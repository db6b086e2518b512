"""Canonical bytes and times: what is signed must serialise one way only.

A document is signed over ``tag + "\\n" + JSON`` with keys sorted, no spaces, UTF-8 text, and
times as whole-second UTC ``YYYY-MM-DDTHH:MM:SSZ``. The signature is over the bytes re-made from
the parsed document, so re-indenting a manifest file keeps it valid; changing any value does not.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def canonical_bytes(tag: bytes, document: dict[str, Any]) -> bytes:
    """The bytes signed for ``document`` under the domain ``tag``."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return tag + b"\n" + text.encode("utf-8")


def format_time(moment: datetime) -> str:
    """``moment`` as whole-second UTC text, ``2026-03-01T08:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: object) -> datetime:
    """The aware UTC time ``text`` names; ValueError unless whole-second text with a zone."""
    if not isinstance(text, str):
        raise ValueError(f"a time must be text, got {text!r}")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} has no time zone")
    if moment.microsecond:
        raise ValueError(f"time {text!r} has a fraction of a second")
    return moment.astimezone(UTC)


def whole_second(moment: datetime) -> datetime:
    """``moment`` in UTC without its fraction of a second (what a document can hold)."""
    return moment.astimezone(UTC).replace(microsecond=0)
