"""``casesync ops console``: the live, read-only web page of the watched regions."""

from __future__ import annotations

import argparse
from typing import Any

from casesync.settings import Settings


def register(actions: Any) -> None:
    console = actions.add_parser("console", help="a live web page of regions, flows and health")
    console.add_argument("--region", required=True, action="append",
                         help="GB/T 2260 code of a region to watch (repeatable)")  # fmt: skip
    console.add_argument("--port", type=int, default=8480, help="HTTP port (default 8480)")
    console.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    console.add_argument("--interval", type=float, default=5.0, metavar="SECONDS",
                         help="time between samples of every region (default 5)")  # fmt: skip
    console.add_argument("--stop-after", type=float, default=300.0, metavar="SECONDS",
                         help="lag with no move for this long is STOP (default 300)")  # fmt: skip
    console.set_defaults(handler=run_console)


def run_console(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: the web stack loads only for this command.
    from casesync.adapters.listening import bind
    from casesync.console.sampler import Sampler
    from casesync.console.web import serve
    from casesync.ops.status import Thresholds
    from casesync.ops.status_check import StatusOptions

    sock = bind(args.host, args.port, what="the console")
    options = StatusOptions(
        window_s=min(2.0, args.interval / 2),
        thresholds=Thresholds(stop_after_s=args.stop_after),
        applied_window_s=max(10.0, args.interval * 2),
    )
    sampler = Sampler(settings, args.region, options, args.interval)
    sampler.start()
    print(f"casesync console on http://{args.host}:{sock.getsockname()[1]}/ "
          f"watching {', '.join(args.region)} (Ctrl-C stops it)", flush=True)  # fmt: skip
    try:
        serve(sampler, sock)
    finally:
        sampler.stop()
    return 0
