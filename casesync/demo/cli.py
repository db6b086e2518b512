"""``casesync demo``: four regions of two real agreements exchanging case traffic."""

from __future__ import annotations

import argparse
from typing import Any

from casesync.demo.runner import Demo
from casesync.logs import configure_logging
from casesync.settings import Settings


def register(commands: Any) -> None:
    demo = commands.add_parser("demo", help="run four regions exchanging real case traffic")
    demo.add_argument("--cases", type=int, default=300, help="simulated cases per region")
    demo.add_argument("--rate", type=float, default=150.0, help="events/s per region")
    demo.add_argument("--timeout", type=float, default=150.0, help="seconds to wait per stage")
    demo.add_argument("--console", type=int, nargs="?", const=8480, metavar="PORT",
                      help="watch it in the ops console on PORT (default 8480) and keep the "
                      "regions running after the summary until Ctrl-C")  # fmt: skip
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    # The demo speaks through its own lines and summary; routine logs go to its log folder.
    configure_logging("WARNING", json=args.log_json)
    return Demo(settings, args.cases, args.rate, args.timeout, args.console).execute()
