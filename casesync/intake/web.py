"""The intake's web side: ``POST /regions/{region}/changes``, ``GET /health``,
``GET /openapi.json``. Every error answer is ``{"code", "message"}`` (``problems.CODES``)."""

from __future__ import annotations

import json
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg2
import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from casesync.errors import Unreachable
from casesync.intake.errors import Refused
from casesync.intake.parsing import parse_change, parse_idempotency_key
from casesync.intake.problems import status_of
from casesync.intake.store import RegionIntake
from casesync.intake.tokens import from_authorization

log = structlog.get_logger(__name__)

DEFAULT_MAX_BODY_BYTES = 64 * 1024
_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def openapi_document() -> dict[str, Any]:
    """The shipped OpenAPI 3 document of this API."""
    text = resources.files("casesync.intake").joinpath("openapi.json").read_text()
    document: dict[str, Any] = json.loads(text)
    return document


def problem(code: str, message: str) -> JSONResponse:
    """An error answer: its code, which fixes its status, and why."""
    status = status_of(code)
    headers = {"WWW-Authenticate": 'Bearer realm="casesync"'} if status == 401 else None
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


@dataclass(frozen=True, slots=True)
class IntakeOptions:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES


def application(regions: Mapping[str, RegionIntake], options: IntakeOptions) -> Starlette:
    """The intake for ``regions`` (code → its database)."""
    spec = openapi_document()

    async def record_change(request: Request) -> Response:
        """Steps: the path's region is served; the token is one of a served region's and valid
        (401 before anything else is read); it is the path's region's (403); the key and body
        are well formed; then record, or answer the first answer again."""
        region = request.path_params["region"]
        intake = regions.get(region)
        if intake is None:
            raise Refused("UNKNOWN_REGION", f"this server records no changes for region {region}")
        token = from_authorization(request.headers.get("authorization"))
        holder = regions.get(token.region)
        if holder is None or not await run_in_threadpool(holder.authenticate, token):
            raise Refused("UNAUTHORIZED", "the bearer token is unknown or revoked")
        if token.region != region:
            message = f"the token is region {token.region}'s, not region {region}'s"
            raise Refused("WRONG_REGION", message)
        key = parse_idempotency_key(request.headers.get("idempotency-key"))
        change = parse_change(await _body(request, options.max_body_bytes))
        recorded = await run_in_threadpool(intake.record, change, key, token.token_id)
        headers = {"Idempotent-Replayed": "true"} if recorded.replayed else {}
        return JSONResponse(recorded.as_json(), status_code=201, headers=headers)

    async def health(_: Request) -> Response:
        states = {code: await run_in_threadpool(intake.healthy) for code, intake in regions.items()}
        ok = all(states.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable",
             "regions": {code: "ok" if up else "unavailable" for code, up in states.items()}},
            status_code=200 if ok else 503,
        )  # fmt: skip

    async def openapi(_: Request) -> Response:
        return JSONResponse(spec)

    return Starlette(
        routes=[
            Route("/regions/{region}/changes", answering(record_change), methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_exception},
    )


async def _body(request: Request, limit: int) -> bytes:
    """The body, refused (BODY_TOO_LARGE) as soon as it is known to exceed ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Refused("BODY_TOO_LARGE", f"the body may be at most {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused("BODY_TOO_LARGE", f"the body may be at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


Endpoint = Callable[[Request], Awaitable[Response]]


def answering(endpoint: Endpoint) -> Endpoint:
    """``endpoint`` with every error it raises answered as a problem, here rather than by
    starlette's last-resort handler, which would also log the error's message (it may quote
    the request, and the request may hold ID numbers)."""

    async def answered(request: Request) -> Response:
        try:
            return await endpoint(request)
        except Refused as e:
            return problem(e.code, e.message)
        except (Unreachable, psycopg2.OperationalError, psycopg2.InterfaceError) as e:
            log.warning("intake database unavailable", error=type(e).__name__)
            return problem("UNAVAILABLE", "the region's database cannot be reached; retry later")
        except Exception as e:  # noqa: BLE001 - answered 500; the type only is logged
            log.error("intake request failed", path=request.url.path, error=type(e).__name__)
            return problem("INTERNAL", "an unexpected error; nothing was recorded")

    return answered


async def _http_exception(_: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = _HTTP_CODES.get(error.status_code, "NOT_FOUND")
    return problem(code, str(error.detail))


def serve(app: Starlette, sock: socket.socket) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM). No access log: paths and statuses only would
    be harmless, but the intake's own lines say what matters."""
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
