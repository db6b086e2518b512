"""A plan for people (``+`` to create or grant, ``-`` to revoke, ``=`` already there) and as JSON.

Nothing secret is in a plan: principals are user names, and passwords exist only when applied.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from casesync.access.model import Acl, Grant, WantedPrincipal, WantedTopic
from casesync.access.plan import UNJUSTIFIED, AccessPlan

NO_CHANGE = "no change"


def plan_lines(plan: AccessPlan, *, show_unchanged: bool = False) -> list[str]:
    """The plan as lines: counts per section, then one line per change (and per kept entry
    with ``show_unchanged``), then what is left alone, then a verdict line."""
    lines = [
        f"access for {len(plan.principals_to_create) + len(plan.principals_present)} region(s) "
        f"in agreements in force on {plan.on.isoformat()}, topics under {plan.prefix}"
    ]
    lines.append(f"principals: +{len(plan.principals_to_create)} ={len(plan.principals_present)}")
    for p in plan.principals_to_create:
        lines.append(f"  + {p.principal}  (SCRAM user; in {', '.join(p.reasons)})")
    if show_unchanged:
        lines.extend(f"  = {p.principal}" for p in plan.principals_present)

    lines.append(f"topics: +{len(plan.topics_to_create)} ={len(plan.topics_present)}")
    for t in plan.topics_to_create:
        kind = ", compacted" if t.compacted else ""
        lines.append(f"  + {t.name}  ({t.reason}{kind})")
    if show_unchanged:
        lines.extend(f"  = {t.name}" for t in plan.topics_present)

    lines.append(
        f"ACLs: +{len(plan.acls_to_add)} -{len(plan.acls_to_revoke)} ={len(plan.acls_kept)}"
    )
    for grant in plan.acls_to_add:
        lines.extend(_grant_lines("+", grant))
    for acl in plan.acls_to_revoke:
        lines.append(f"  - {acl.describe()}  (revoke: {UNJUSTIFIED})")
    if show_unchanged:
        for grant in plan.acls_kept:
            lines.extend(_grant_lines("=", grant))

    lines.extend(_left_alone_lines(plan))
    lines.append(NO_CHANGE if plan.is_empty else _change_summary(plan))
    return lines


def plan_document(plan: AccessPlan) -> dict[str, Any]:
    """The plan as one JSON-ready document."""
    return {
        "on": plan.on.isoformat(),
        "prefix": plan.prefix,
        "changes": not plan.is_empty,
        "principals": {
            "create": [_principal(p) for p in plan.principals_to_create],
            "present": [_principal(p) for p in plan.principals_present],
        },
        "topics": {
            "create": [_topic(t) for t in plan.topics_to_create],
            "present": [t.name for t in plan.topics_present],
        },
        "acls": {
            "add": [grant_document(g) for g in plan.acls_to_add],
            "revoke": [revocation_document(a) for a in plan.acls_to_revoke],
            "kept": [grant_document(g) for g in plan.acls_kept],
        },
        "left_alone": [acl_document(item.acl) | {"why": item.why} for item in plan.left_alone],
        "idle_users": list(plan.idle_users),
    }


def acl_document(acl: Acl) -> dict[str, str]:
    """One ACL as JSON fields named as Kafka names them."""
    return {
        "principal": acl.principal,
        "resource_type": acl.resource_type.value,
        "resource_name": acl.resource_name,
        "pattern_type": acl.pattern.value,
        "operation": acl.operation.value,
        "permission_type": acl.permission.value,
        "host": acl.host,
    }


def grant_document(grant: Grant) -> dict[str, Any]:
    """A wanted ACL as JSON, with the rules that justify it."""
    return acl_document(grant.acl) | {"reasons": list(grant.reasons)}


def revocation_document(acl: Acl) -> dict[str, Any]:
    """A revoked ACL as JSON, with the reason it goes."""
    return acl_document(acl) | {"reasons": [UNJUSTIFIED]}


def _grant_lines(mark: str, grant: Grant) -> list[str]:
    return [f"  {mark} {grant.acl.describe()}"] + [f"      because {r}" for r in grant.reasons]


def _left_alone_lines(plan: AccessPlan) -> list[str]:
    lines = []
    if plan.left_alone:
        lines.append(f"left alone: {len(plan.left_alone)} ACL(s) this tool does not own")
        for why, count in sorted(Counter(item.why for item in plan.left_alone).items()):
            lines.append(f"  {count} {why}")
        for item in plan.left_alone:
            if item.review:
                lines.append(f"  ! {item.acl.describe()}")
    if plan.idle_users:
        lines.append(
            f"users in no agreement in force (kept, without ACLs): {', '.join(plan.idle_users)}"
        )
    return lines


def _change_summary(plan: AccessPlan) -> str:
    return (
        f"to apply: {len(plan.principals_to_create)} principal(s), "
        f"{len(plan.topics_to_create)} topic(s), {len(plan.acls_to_add)} ACL(s) to grant, "
        f"{len(plan.acls_to_revoke)} to revoke (`casesync access apply`)"
    )


def _principal(p: WantedPrincipal) -> dict[str, Any]:
    return {"region": p.region, "principal": p.principal, "agreements": list(p.reasons)}


def _topic(t: WantedTopic) -> dict[str, Any]:
    return {"name": t.name, "compacted": t.compacted, "reason": t.reason}
