"""``casesync serve`` (the HTTP intake) and ``casesync tokens`` (its bearer tokens)."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog

from casesync.adapters.postgres import connect, transaction
from casesync.domain.loading import shipped_catalogue
from casesync.private_files import write_private
from casesync.settings import Settings

log = structlog.get_logger(__name__)


def register(commands: Any) -> None:
    serve = commands.add_parser(
        "serve", help="the HTTP intake: regional systems record changes over HTTP"
    )
    serve.add_argument("--region", required=True, action="append",
                       help="GB/T 2260 code of a region to record for (repeatable)")  # fmt: skip
    serve.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8470, help="HTTP port (default 8470)")
    serve.add_argument("--key-retention-hours", type=float, default=24.0,
                       help="how long an Idempotency-Key is remembered (default 24)")  # fmt: skip
    serve.add_argument("--max-body-bytes", type=int, default=64 * 1024,
                       help="largest request body accepted (default 65536)")  # fmt: skip
    serve.set_defaults(handler=run_serve)

    tokens = commands.add_parser(
        "tokens", help="bearer tokens of the HTTP intake (issue, list, revoke)"
    ).add_subparsers(dest="tokens_command", required=True, metavar="ACTION")
    issue = tokens.add_parser("issue", help="a new token, shown once (only its digest is kept)")
    issue.add_argument("--region", required=True)
    issue.add_argument("--label", required=True, help="which system will hold it")
    issue.add_argument(
        "--out", type=Path, help="write the token to this file (0600) instead of printing it"
    )
    issue.set_defaults(handler=run_issue)
    listing = tokens.add_parser("list", help="the region's tokens (ids and labels, never secrets)")
    listing.add_argument("--region", required=True)
    listing.set_defaults(handler=run_list)
    revoke = tokens.add_parser("revoke", help="refuse a token from now on")
    revoke.add_argument("--region", required=True)
    revoke.add_argument("--id", required=True, dest="token_id", help="as `tokens list` shows it")
    revoke.set_defaults(handler=run_revoke)


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: the web stack loads only for this command.
    from casesync.adapters.listening import bind
    from casesync.intake.store import RegionIntake
    from casesync.intake.web import IntakeOptions, application, serve

    catalogue = shipped_catalogue()
    for code in args.region:
        catalogue.region(code)  # an unknown region code fails here, clearly
    sock = bind(args.host, args.port, what="the intake")
    retention = timedelta(hours=args.key_retention_hours)
    regions = {
        code: RegionIntake(code, settings.region_database_url(code), key_retention=retention)
        for code in args.region
    }
    app = application(regions, IntakeOptions(max_body_bytes=args.max_body_bytes))
    print(f"casesync intake on http://{args.host}:{sock.getsockname()[1]}/ "
          f"for {', '.join(args.region)} (Ctrl-C stops it)", flush=True)  # fmt: skip
    try:
        serve(app, sock)
    finally:
        for intake in regions.values():
            intake.close()
    return 0


def run_issue(args: argparse.Namespace, settings: Settings) -> int:
    from casesync.intake.store import issue_token

    shipped_catalogue().region(args.region)
    token = issue_token(settings.region_database_url(args.region), args.region, args.label)
    log.info("intake token issued", region=args.region, token_id=token.token_id)
    if args.out:
        write_private(args.out, f"{token.secret}\n".encode())
        print(f"token {token.token_id} of region {args.region} written to {args.out}")
    else:  # the only time it is shown: the database keeps its digest alone
        print(token.secret)
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    from casesync.intake.store import list_tokens

    conn = connect(settings.region_database_url(args.region), application_name="casesync-tokens")
    try:
        with transaction(conn) as cur:
            rows = list_tokens(cur)
    finally:
        conn.close()
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
        print(f"{row.token_id}  {row.created_at:%Y-%m-%d %H:%M}  {state}  {row.label}")
    return 0


def run_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from casesync.intake.store import revoke_token

    conn = connect(settings.region_database_url(args.region), application_name="casesync-tokens")
    try:
        with transaction(conn) as cur:
            revoked_now = revoke_token(cur, args.token_id)
    finally:
        conn.close()
    print(f"token {args.token_id} " + ("revoked" if revoked_now else "was revoked already"))
    return 0
