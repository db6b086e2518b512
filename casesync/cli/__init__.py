"""The ``casesync`` command: one entry point whose sub-commands live beside the code they drive.

Each command module exposes ``register(subparsers)``, which adds its parsers and sets a
``handler(args, settings) -> int``. Settings are read once, here, and passed down.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from casesync.errors import CasesyncError
from casesync.logs import configure_logging
from casesync.settings import Settings
from casesync.tuning import tune_for_throughput

COMMAND_MODULES = (
    "casesync.cli.check",
    "casesync.cli.region",
    "producers.cli",
    "consumers.cli",
    "casesync.cli.run",
    "casesync.demo.cli",
    "casesync.ops.cli",
    "casesync.cli.access",
    "casesync.cli.keys",
    "casesync.intake.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="casesync",
        description="Cross-province case events: Avro over Kafka into each region's PostgreSQL.",
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    parser.add_argument(
        "--log-json", action="store_true", default=None, help="JSON log lines even on a terminal"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, read settings once, run the command; errors become one line and exit code 2."""
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level, json=args.log_json)
    tune_for_throughput()
    try:
        settings = Settings.from_env()
        code: int = args.handler(args, settings)
    except CasesyncError as e:
        print(f"casesync: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as `cat` does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 141
    except OSError as e:  # a file or port the command was given (no such file, port in use)
        print(f"casesync: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code
