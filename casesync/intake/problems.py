"""Every code an error answer of the intake carries, with its HTTP status.

The ``CS…`` codes are the SQLSTATEs ``casesync_api.record_change`` raises (README, "Recording
changes from your system"): an HTTP client branches on the same codes as a SQL one.
"""

from __future__ import annotations

from dataclasses import dataclass

from casesync.intake.errors import Refused


@dataclass(frozen=True, slots=True)
class Problem:
    status: int
    meaning: str


CODES: dict[str, Problem] = {
    "CS001": Problem(409, "the case is not at expected_version"),
    "CS002": Problem(422, "the event is not allowed from the case's state in its handling mode"),
    "CS003": Problem(403, "the case is owned by another region"),
    "CS004": Problem(422, "the item is neither a national nor this region's local item code"),
    "CS005": Problem(422, "the item is not offered in that handling mode"),
    "CS006": Problem(422, "the applicant carries an identifier the item does not need"),
    "CS007": Problem(422, "a target region is unknown or does not share the item on that date"),
    "CS008": Problem(422, "the change is malformed for the rules (new-case fields, applicant…)"),
    "CS009": Problem(422, "the date is outside the working-day calendar"),
    "CS010": Problem(503, "the recording rules are not loaded in the region's database"),
    "INVALID_JSON": Problem(400, "the body is not a JSON object"),
    "INVALID_REQUEST": Problem(400, "a field of the body is missing or of the wrong type"),
    "IDEMPOTENCY_KEY_MISSING": Problem(400, "no valid Idempotency-Key header"),
    "IDEMPOTENCY_KEY_REUSED": Problem(422, "the key was used before with a different body"),
    "UNAUTHORIZED": Problem(401, "no bearer token, or one that is unknown, revoked or malformed"),
    "WRONG_REGION": Problem(403, "the token is for another region than the one in the path"),
    "UNKNOWN_REGION": Problem(404, "this server records no changes for that region"),
    "NOT_FOUND": Problem(404, "no such path"),
    "METHOD_NOT_ALLOWED": Problem(405, "the path does not take that method"),
    "BODY_TOO_LARGE": Problem(413, "the body is larger than the server's limit"),
    "UNAVAILABLE": Problem(503, "the region's database cannot be reached; retry later"),
    "INTERNAL": Problem(500, "an unexpected error; nothing was recorded"),
}


def status_of(code: str) -> int:
    """The HTTP status of an answer with ``code``."""
    return CODES[code].status


def refusal_for_sqlstate(sqlstate: str | None, message: str) -> Refused | None:
    """The refusal a ``record_change`` SQLSTATE stands for; None for any other SQLSTATE."""
    if sqlstate is None or not sqlstate.startswith("CS") or sqlstate not in CODES:
        return None
    return Refused(sqlstate, message)
