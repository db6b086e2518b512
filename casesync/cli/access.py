"""``casesync access plan|apply``: the principals, topics and ACLs the agreements imply.

The composition root of access: the catalogue, the topic names and the admin client come
together here; the plan itself is pure (``casesync.access``).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime
from typing import Any

from casesync.access.desired import desired_access
from casesync.access.kafka_applier import AppliedAccess, ClusterAccess
from casesync.access.plan import UNJUSTIFIED, AccessPlan, plan_access
from casesync.access.provisioning import cluster_access
from casesync.access.render import (
    NO_CHANGE,
    grant_document,
    plan_document,
    plan_lines,
    revocation_document,
)
from casesync.adapters.reachability import kafka_admin
from casesync.adapters.topics import TopicNames
from casesync.domain.loading import shipped_catalogue
from casesync.domain.workdays import china_date
from casesync.settings import Settings


def register(commands: Any) -> None:
    access = commands.add_parser(
        "access", help="principals, topics and ACLs the agreements imply (plan, apply)"
    )
    actions = access.add_subparsers(dest="access_command", required=True, metavar="ACTION")
    plan = actions.add_parser("plan", help="what apply would change, and why (changes nothing)")
    _common_arguments(plan)
    plan.add_argument(
        "--show-unchanged", action="store_true", help="also list what is already in place (=)"
    )
    plan.set_defaults(handler=run_plan)
    apply = actions.add_parser(
        "apply", help="create principals and topics, grant and revoke ACLs (as an administrator)"
    )
    _common_arguments(apply)
    apply.set_defaults(handler=run_apply)


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--on",
        type=date.fromisoformat,
        metavar="DATE",
        help="the agreements in force on this date, YYYY-MM-DD (default: today in China)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def run_plan(args: argparse.Namespace, settings: Settings) -> int:
    with kafka_admin(settings.kafka) as admin:
        plan = _plan(args, settings, cluster_access(admin, settings))
    if args.json:
        print(json.dumps(plan_document(plan), ensure_ascii=False, indent=2))
    else:
        print("\n".join(plan_lines(plan, show_unchanged=args.show_unchanged)))
    return 0


def run_apply(args: argparse.Namespace, settings: Settings) -> int:
    with kafka_admin(settings.kafka) as admin:
        access = cluster_access(admin, settings)
        plan = _plan(args, settings, access)
        applied = access.apply(plan)
    if args.json:
        print(json.dumps(_applied_document(plan, applied), ensure_ascii=False, indent=2))
    else:
        print("\n".join(_applied_lines(applied)))
    return 0


def _plan(args: argparse.Namespace, settings: Settings, access: ClusterAccess) -> AccessPlan:
    on = args.on or china_date(datetime.now(UTC))
    desired = desired_access(shipped_catalogue(), TopicNames(settings.topic_prefix), on)
    return plan_access(desired, access.read_state())


def _applied_lines(applied: AppliedAccess) -> list[str]:
    lines = [
        f"created principal {principal} (credentials in {path})"
        for principal, path in applied.principals_created
    ]
    lines.extend(f"created topic {topic}" for topic in applied.topics_created)
    lines.extend(f"granted {grant.acl.describe()}" for grant in applied.acls_granted)
    lines.extend(f"revoked {acl.describe()} ({UNJUSTIFIED})" for acl in applied.acls_revoked)
    if not applied.changed:
        return [NO_CHANGE]
    lines.append(
        f"applied: {len(applied.principals_created)} principal(s) and "
        f"{len(applied.topics_created)} topic(s) created, {len(applied.acls_granted)} ACL(s) "
        f"granted, {len(applied.acls_revoked)} revoked"
    )
    return lines


def _applied_document(plan: AccessPlan, applied: AppliedAccess) -> dict[str, Any]:
    return {
        "on": plan.on.isoformat(),
        "prefix": plan.prefix,
        "changed": applied.changed,
        "principals_created": [
            {"principal": principal, "credentials_file": str(path)}
            for principal, path in applied.principals_created
        ],
        "topics_created": list(applied.topics_created),
        "granted": [grant_document(g) for g in applied.acls_granted],
        "revoked": [revocation_document(a) for a in applied.acls_revoked],
    }
