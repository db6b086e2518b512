"""The HTTP intake against the real database (and, for publishing, the real broker): a plain HTTP
client's retries and duplicate idempotency keys record one event; a bad credential, another
region's token or case, a broken rule or a key reused with another body write nothing."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from casesync.adapters.postgres import query_rows as rows
from casesync.testing_regions import RegionFactory

from .conftest import (
    RUDONG,
    SUBMISSION,
    TONGXIANG,
    Answer,
    IntakeClient,
    issue_token,
    prepare_intake_database,
)

pytestmark = pytest.mark.integration

ID_NUMBER = SUBMISSION["applicant"]["id_number"]
NEW_CASE: dict[str, Any] = {
    "case_id": "RD-1", "event_type": "CASE_SUBMITTED", "expected_version": 0, "fields": SUBMISSION,
}  # fmt: skip


@dataclass
class Served:
    """Rudong and Tongxiang, each with its database and a token, behind one intake."""

    client: IntakeClient
    urls: dict[str, str]
    tokens: dict[str, str]

    def post(self, body: dict[str, Any] | bytes, key: str | None = None, **kwargs: Any) -> Answer:
        kwargs.setdefault("token", self.tokens[RUDONG])
        region = kwargs.pop("region", RUDONG)
        return self.client.post(region, body, key=key or str(uuid.uuid4()), **kwargs)

    def written(self, region: str = RUDONG) -> dict[str, int]:
        """Rows of every table a recording writes, in ``region``'s database."""
        tables = ("cases", "case_history", "outbox", "casesync_intake.idempotency_keys")
        return {t: rows(self.urls[region], f"SELECT count(*) FROM {t}")[0][0] for t in tables}  # noqa: S608


@pytest.fixture
def served(
    database_factory: Callable[[str], str], intake_server: Callable[..., IntakeClient]
) -> Served:
    urls = {code: database_factory(f"http{code}") for code in (RUDONG, TONGXIANG)}
    for code, url in urls.items():
        prepare_intake_database(url, code)
    issued = {code: issue_token(url, code) for code, url in urls.items()}
    return Served(intake_server(urls), urls, issued)


def test_one_change_posted_three_times_with_one_key_is_one_event_published_once(
    region_factory: RegionFactory, intake_server: Callable[..., IntakeClient],
    capfd: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A client that retries the same submission three times with one Idempotency-Key gets the
    same version and event id each time (the repeats marked replayed); the outbox holds one row,
    the relay publishes one record, and the ID number appears in no log line."""
    rudong = region_factory(RUDONG)
    region_factory(TONGXIANG)
    prepare_intake_database(rudong.url, RUDONG)
    client = intake_server({RUDONG: rudong.url})
    answers = client.post_with_retries(
        RUDONG, NEW_CASE, token=issue_token(rudong.url, RUDONG), key=str(uuid.uuid4()), attempts=3
    )
    assert [a.status for a in answers] == [201, 201, 201]
    assert answers[0].body["version"] == 1
    assert {a.body["event_id"] for a in answers} == {answers[0].body["event_id"]}
    assert [a.headers.get("idempotent-replayed") for a in answers] == [None, "true", "true"]
    assert rudong.query("SELECT event_id::text FROM outbox") == [(answers[0].body["event_id"],)]
    assert rudong.relay() == 1
    out, err = capfd.readouterr()
    assert ID_NUMBER not in out + err


def test_concurrent_requests_with_one_key_record_one_event(served: Served) -> None:
    """Four clients post the same change with the same key at once: the key's row makes the
    later ones wait for the first and answer what it answered."""
    key, answers = str(uuid.uuid4()), []
    threads = [
        threading.Thread(target=lambda: answers.append(served.post(NEW_CASE, key)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status for a in answers) == [201] * 4
    assert len({a.body["event_id"] for a in answers}) == 1
    assert served.written()["outbox"] == 1


def test_the_same_key_with_another_body_is_refused_and_writes_nothing(served: Served) -> None:
    """A key already used for one change cannot record another: 422 IDEMPOTENCY_KEY_REUSED."""
    key = str(uuid.uuid4())
    assert served.post(NEW_CASE, key).status == 201
    before = served.written()
    answer = served.post({**NEW_CASE, "case_id": "RD-2"}, key)
    assert (answer.status, answer.body["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert served.written() == before


@pytest.mark.parametrize(
    "token",
    [None, "not-a-token", "cs1.320623.0123456789ab." + "A" * 43],
    ids=["missing", "malformed", "never-issued"],
)
def test_a_bad_credential_is_401_and_writes_nothing(served: Served, token: str | None) -> None:
    """No token, a malformed one or one never issued: 401 UNAUTHORIZED with WWW-Authenticate."""
    answer = served.post(NEW_CASE, token=token)
    assert (answer.status, answer.body["code"]) == (401, "UNAUTHORIZED")
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert served.written()["outbox"] == 0


def test_a_revoked_token_is_401(served: Served) -> None:
    """Once revoked, a token that worked is refused."""
    assert served.post(NEW_CASE).status == 201
    rows(served.urls[RUDONG], "UPDATE casesync_intake.tokens SET revoked_at = now()")
    answer = served.post({**NEW_CASE, "case_id": "RD-2"})
    assert (answer.status, answer.body["code"]) == (401, "UNAUTHORIZED")
    assert served.written()["outbox"] == 1


def test_another_regions_token_is_403_and_writes_nothing(served: Served) -> None:
    """Tongxiang's valid token cannot record for Rudong: 403 WRONG_REGION; neither database
    gets a row."""
    answer = served.post(NEW_CASE, token=served.tokens[TONGXIANG])
    assert (answer.status, answer.body["code"]) == (403, "WRONG_REGION")
    assert served.written(RUDONG)["outbox"] == served.written(TONGXIANG)["outbox"] == 0


def test_a_case_another_region_owns_is_403_cs003(served: Served) -> None:
    """A case Rudong mirrors from Tongxiang is not Rudong's to change: 403 CS003."""
    rows(
        served.urls[RUDONG],
        "INSERT INTO mirror_cases (case_id, source_region, version, state, item_code,"
        " handling_mode, step_owner, promised_deadline, correlation_id, updated_at, snapshot,"
        " last_event_id) VALUES ('TX-1', %s, 1, 'SUBMITTED', '002023002000', 'FULLY_ONLINE',"
        " %s, current_date, 'TX-1', now(), '{}', gen_random_uuid())",
        (TONGXIANG, TONGXIANG),
    )
    answer = served.post({"case_id": "TX-1", "event_type": "CASE_ACCEPTED", "expected_version": 1})
    assert (answer.status, answer.body["code"]) == (403, "CS003")
    assert "owned by 330483" in answer.body["message"]
    assert served.written()["outbox"] == 0


def test_an_illegal_transition_is_422_cs002_and_writes_nothing(served: Served) -> None:
    """Approving a case that was only submitted: 422 with record_change's CS002 and its message;
    no case change, no event, no idempotency key."""
    assert served.post(NEW_CASE).status == 201
    before = served.written()
    answer = served.post({"case_id": "RD-1", "event_type": "CASE_APPROVED", "expected_version": 1})
    assert (answer.status, answer.body["code"]) == (422, "CS002")
    assert "CASE_APPROVED is not allowed from SUBMITTED" in answer.body["message"]
    assert served.written() == before
    assert rows(served.urls[RUDONG], "SELECT version, state FROM cases") == [(1, "SUBMITTED")]


def test_a_stale_expected_version_is_409_cs001(served: Served) -> None:
    """Accepting version 0 of a case at version 1 lost the race: 409 CS001."""
    assert served.post(NEW_CASE).status == 201
    answer = served.post({"case_id": "RD-1", "event_type": "CASE_ACCEPTED", "expected_version": 0})
    assert (answer.status, answer.body["code"]) == (409, "CS001")


@pytest.mark.parametrize(
    ("body", "key", "status", "code"),
    [
        (NEW_CASE, "", 400, "IDEMPOTENCY_KEY_MISSING"),
        (b"{not json", None, 400, "INVALID_JSON"),
        ({**NEW_CASE, "expected_version": "0"}, None, 400, "INVALID_REQUEST"),
        (b"{" + b" " * 70_000 + b"}", None, 413, "BODY_TOO_LARGE"),
    ],
    ids=["no-key", "not-json", "wrong-type", "too-large"],
)
def test_a_malformed_request_is_a_typed_4xx_and_writes_nothing(
    served: Served, body: dict[str, Any] | bytes, key: str | None, status: int, code: str
) -> None:
    """Missing key, broken JSON, a wrong type, an oversized body: each its status and code."""
    answer = served.client.post(RUDONG, body, token=served.tokens[RUDONG],
                                key=key if key is not None else str(uuid.uuid4()))  # fmt: skip
    assert (answer.status, answer.body["code"]) == (status, code)
    assert served.written()["outbox"] == 0


def test_health_and_the_openapi_document_are_served(served: Served) -> None:
    """GET /health says each region's database answers; GET /openapi.json is the document."""
    health = served.client.get("/health")
    assert (health.status, health.body) == (
        200, {"status": "ok", "regions": {RUDONG: "ok", TONGXIANG: "ok"}},
    )  # fmt: skip
    assert served.client.get("/openapi.json").body["openapi"].startswith("3.")
    missing = served.client.get("/nowhere")
    assert (missing.status, missing.body["code"]) == (404, "NOT_FOUND")
