"""The shipped OpenAPI document says what the intake does: its routes, statuses and codes."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from casesync.intake.problems import CODES
from casesync.intake.web import IntakeOptions, application, openapi_document, problem

ROUTING_CODES = {"NOT_FOUND", "METHOD_NOT_ALLOWED"}  # any path may answer them


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in document["paths"].items() for method in item}


def test_every_route_of_the_application_is_documented_and_nothing_more() -> None:
    """The document's paths and methods are exactly the application's."""
    app = application({}, IntakeOptions())
    served = {
        (route.path, method)
        for route in app.routes
        if isinstance(route, Route)
        for method in (route.methods or ()) - {"HEAD"}
    }
    assert _operations(openapi_document()) == served


def test_the_problem_schema_lists_every_code_the_intake_answers() -> None:
    """The enum of Problem.code is the intake's table of codes, in full."""
    schema = openapi_document()["components"]["schemas"]["Problem"]
    assert set(schema["properties"]["code"]["enum"]) == set(CODES)


def test_every_status_and_code_of_recording_is_documented_on_its_operation() -> None:
    """Each code recording can answer appears under its status on POST .../changes."""
    responses = openapi_document()["paths"]["/regions/{region}/changes"]["post"]["responses"]
    for code, found in CODES.items():
        if code in ROUTING_CODES:
            continue
        assert str(found.status) in responses, code
        assert code in responses[str(found.status)]["description"], code
    assert "201" in responses


def test_an_unauthorized_answer_says_how_to_authenticate() -> None:
    """A 401 carries WWW-Authenticate: Bearer, and its body is the typed problem."""
    answer = problem("UNAUTHORIZED", "no token")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.body == b'{"code":"UNAUTHORIZED","message":"no token"}'
