"""``casesync keys``: a region's signing keys and the federation manifest, as files.

The composition root of trust administration: settings say where a region's private keys go and
which root key manifests must be signed by; the logic is pure (``casesync.trust``). Private key
bytes go to 0600 files only, never to the terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from casesync.adapters.manifest_topic import KafkaManifestLog
from casesync.adapters.topics import TopicNames, ensure_topics
from casesync.errors import ConfigError
from casesync.private_files import write_private
from casesync.settings import Settings
from casesync.trust.canonical import format_time, parse_time, whole_second
from casesync.trust.errors import ManifestMalformed
from casesync.trust.holder import ManifestHolder
from casesync.trust.keys import (
    load_signing_key,
    new_signing_key,
    parse_root_public,
    root_public_text,
    write_signing_key,
)
from casesync.trust.manifest import (
    Manifest,
    entry_document,
    parse_entry,
    parse_manifest,
    parse_signed_manifest,
    sign_manifest,
    signed_document,
    successor,
    unsigned_document,
)
from casesync.trust.suites import ED25519, SM2_SM3


def register(commands: Any) -> None:
    keys = commands.add_parser("keys", help="region signing keys and the federation manifest")
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")

    new = actions.add_parser("new", help="a new signing key for a region; prints its entry")
    new.add_argument("--region", required=True, help="the region's GB/T 2260 code")
    new.add_argument(
        "--suite",
        default=ED25519,
        metavar="SUITE",
        help=f"signature suite: {ED25519} (default) or {SM2_SM3} (SM2 with SM3, for GB/T 39786)",
    )
    new.add_argument("--valid-from", type=_time, help="start of its window (default: now)")
    new.add_argument(
        "--valid-days", type=_days, default=timedelta(days=365), help="length of its window"
    )
    new.set_defaults(handler=run_new)

    root = actions.add_parser(
        "new-root", help="a new platform root key (kept offline); its public key goes to OUT.pub"
    )
    root.add_argument("--out", type=Path, required=True, help="the private key file to write")
    root.set_defaults(handler=run_new_root)

    manifest = actions.add_parser("manifest", help="build, sign, verify or show a manifest file")
    steps = manifest.add_subparsers(dest="manifest_command", required=True, metavar="STEP")
    build = steps.add_parser("build", help="the next unsigned manifest")
    build.add_argument("--from", dest="previous", type=Path, help="the manifest it follows")
    build.add_argument("--add", type=Path, action="append", default=[], help="an entry file")
    build.add_argument("--revoke", action="append", default=[], metavar="KEY_ID")
    build.add_argument("--revoked-at", type=_time, help="when revoked keys were lost (now)")
    build.add_argument(
        "--valid-days", type=_days, default=timedelta(days=30), help="until it expires"
    )
    build.add_argument("--out", type=Path, required=True, help="the manifest file to write")
    build.set_defaults(handler=run_build)
    sign = steps.add_parser("sign", help="sign a manifest with the root key")
    sign.add_argument("manifest", type=Path)
    sign.add_argument("--root-key", type=Path, required=True, help="the root's private key")
    sign.add_argument("--out", type=Path, help="where to write it (default: in place)")
    sign.set_defaults(handler=run_sign)
    verify = steps.add_parser("verify", help="check a manifest against the pinned root")
    verify.add_argument("manifest", type=Path)
    verify.add_argument("--root", help="the root public key (default: CASESYNC_TRUST_ROOT)")
    verify.set_defaults(handler=run_verify)
    publish = steps.add_parser(
        "publish", help="publish a signed manifest to the manifest topic (as the admin)"
    )
    publish.add_argument("manifest", type=Path)
    publish.set_defaults(handler=run_publish)
    show = steps.add_parser("show", help="the manifest's regions and keys")
    show.add_argument("manifest", type=Path)
    show.set_defaults(handler=run_show)


def run_new(args: argparse.Namespace, settings: Settings) -> int:
    key = new_signing_key(args.region, args.suite)
    valid_from = whole_second(args.valid_from or datetime.now(UTC))
    path = write_signing_key(key, settings.signing_key_dir)
    entry = key.entry(valid_from, valid_from + args.valid_days)
    print(json.dumps(entry_document(entry), indent=2))
    print(f"private key written to {path} (0600)", file=sys.stderr)
    return 0


def run_new_root(args: argparse.Namespace, settings: Settings) -> int:
    root = new_signing_key("root")
    write_private(args.out, root.pkcs8_pem())
    public_file = args.out.with_name(args.out.name + ".pub")
    public_file.write_text(root_public_text(root) + "\n", encoding="ascii")
    document = {"root_key_id": root.key_id, "suite": root.suite}
    # CASESYNC_TRUST_ROOT takes the public file's path or the key's base64 itself.
    document.update(public_key=root_public_text(root), public_key_file=str(public_file))
    print(json.dumps(document, indent=2))
    return 0


def run_build(args: argparse.Namespace, settings: Settings) -> int:
    now = datetime.now(UTC)
    previous = parse_manifest(_read_json(args.previous)) if args.previous else None
    added = [parse_entry(document) for path in args.add for document in _entries(path)]
    revoked_at = args.revoked_at or now
    manifest = successor(
        previous, now, args.valid_days, added, {key_id: revoked_at for key_id in args.revoke}
    )
    _write_json(args.out, unsigned_document(manifest))
    print(f"manifest version {manifest.version} written to {args.out} (unsigned)")
    return 0


def run_sign(args: argparse.Namespace, settings: Settings) -> int:
    manifest = parse_manifest(_read_json(args.manifest))
    signed = sign_manifest(manifest, load_signing_key(args.root_key, "root"))
    out = args.out or args.manifest
    _write_json(out, signed_document(signed))
    print(f"manifest version {manifest.version} signed by root key {signed.root_key_id}: {out}")
    return 0


def run_verify(args: argparse.Namespace, settings: Settings) -> int:
    root_text = args.root or settings.trust_root
    if not root_text:
        raise ConfigError("no trust root: set CASESYNC_TRUST_ROOT or give --root")
    holder = ManifestHolder(parse_root_public(root_text))
    manifest = holder.offer(parse_signed_manifest(_read_json(args.manifest)), datetime.now(UTC))
    print(
        f"ok: manifest version {manifest.version}, signed by root key {holder.root.key_id}, "
        f"expires {format_time(manifest.expires_at)}"
    )
    return 0


def run_publish(args: argparse.Namespace, settings: Settings) -> int:
    """Check the manifest as every process will (pinned root, not expired), then write it to
    the compacted manifest topic, which processes read at start and while they run."""
    root_text = settings.trust_root
    if not root_text:
        raise ConfigError("no trust root: set CASESYNC_TRUST_ROOT to check before publishing")
    holder = ManifestHolder(parse_root_public(root_text))
    manifest = holder.offer(parse_signed_manifest(_read_json(args.manifest)), datetime.now(UTC))
    topic = TopicNames(settings.topic_prefix).manifest
    ensure_topics(settings.kafka, settings.topics, (), compacted=(topic,))
    KafkaManifestLog(settings.kafka, topic).publish(args.manifest.read_bytes())
    print(f"manifest version {manifest.version} published to {topic}")
    return 0


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    document = _read_json(args.manifest)
    manifest = parse_manifest(document)
    signed = isinstance(document, dict) and "signature" in document
    print("\n".join(_show_lines(manifest, signed, datetime.now(UTC))))
    return 0


def _show_lines(manifest: Manifest, signed: bool, now: datetime) -> list[str]:
    state = "EXPIRED" if manifest.expired_at(now) else "in force"
    lines = [
        f"manifest version {manifest.version} ({'signed' if signed else 'UNSIGNED'}), issued "
        f"{format_time(manifest.issued_at)}, expires {format_time(manifest.expires_at)} ({state})",
        f"regions: {', '.join(manifest.regions) or '-'}",
        f"{'region':<8} {'key id':<16} {'suite':<8} {'valid from':<20} {'valid until':<20} state",
    ]
    for entry in sorted(manifest.keys, key=lambda e: (e.region, e.valid_from)):
        why_not = entry.why_not_valid_at(now)
        status = (
            f"revoked {format_time(entry.revoked_at)}"
            if entry.revoked_at is not None
            else ("valid now" if why_not is None else "not valid now")
        )
        lines.append(
            f"{entry.region:<8} {entry.key_id:<16} {entry.suite:<8} "
            f"{format_time(entry.valid_from):<20} {format_time(entry.valid_until):<20} {status}"
        )
    return lines


def _entries(path: Path) -> list[object]:
    """The entries in a file: one entry object (as ``keys new`` prints) or a list of them."""
    document = _read_json(path)
    return document if isinstance(document, list) else [document]


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ManifestMalformed(f"{path} is not a JSON document: {e}") from e


def _write_json(path: Path, document: object) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _time(text: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{e} (write e.g. 2026-03-01T00:00:00Z)") from None


def _days(text: str) -> timedelta:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number of days, got {text!r}") from None
    if days < 1:
        raise argparse.ArgumentTypeError(f"at least 1 day, got {days}")
    return timedelta(days=days)
