"""The console's web side: the page, its packaged assets and the latest view (read-only)."""

from __future__ import annotations

import socket
from importlib import resources
from pathlib import Path

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from casesync.console.places import backdrop
from casesync.console.sampler import Sampler

STATIC = Path(str(resources.files("casesync.console").joinpath("static")))


def application(sampler: Sampler) -> Starlette:
    """``/`` the page, ``/api/state`` the latest view as JSON, ``/api/places`` the map's
    backdrop (fixed), ``/static`` the assets, ``/metrics`` the console's gauges for Prometheus."""

    async def page(_: Request) -> FileResponse:
        return FileResponse(STATIC / "index.html")

    async def state(_: Request) -> Response:
        return Response(sampler.latest(), media_type="application/json",
                        headers={"Cache-Control": "no-store"})  # fmt: skip

    async def places(_: Request) -> Response:
        return Response(backdrop(), media_type="application/json",
                        headers={"Cache-Control": "max-age=86400"})  # fmt: skip

    async def metrics(_: Request) -> Response:
        return Response(sampler.gauges.exposition(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[
        Route("/", page, methods=["GET"]),
        Route("/api/state", state, methods=["GET"]),
        Route("/api/places", places, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ])  # fmt: skip


def serve(sampler: Sampler, sock: socket.socket) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM)."""
    config = uvicorn.Config(application(sampler), log_level="warning", access_log=False,
                            lifespan="off")  # fmt: skip
    uvicorn.Server(config).run(sockets=[sock])
