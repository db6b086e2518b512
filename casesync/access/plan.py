"""Desired against actual: what to create, grant and revoke, and what is left alone.

Reconciliation is one way, as Strimzi's User Operator does it: every ALLOW on a casesync resource
(a topic or group under the prefix) that no agreement justifies is revoked. Three kinds of ACL are
never touched: those of the administrators (super users need none, and locking them out would
lock out the tool), those on resources outside the prefix (another application's business), and
DENY entries (they only narrow access; removing one would widen it). Principals and topics are
only ever created: a region that leaves every agreement keeps its user but loses its ACLs, and
its topics keep their history.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from casesync.access.model import (
    Acl,
    ClusterState,
    DesiredAccess,
    Grant,
    PatternType,
    Permission,
    ResourceType,
    WantedPrincipal,
    WantedTopic,
    principal_of,
)

ADMIN_PRINCIPAL = "User:admin"
BROKER_PRINCIPAL = "User:kafka-broker"  # the broker's own certificate name, a super user
DEFAULT_PROTECTED = frozenset({ADMIN_PRINCIPAL, BROKER_PRINCIPAL})
UNJUSTIFIED = "no agreement justifies it"
WILDCARD_RESOURCE = "*"  # a LITERAL ACL on "*" matches every resource of its type


@dataclass(frozen=True, slots=True)
class LeftAlone:
    """An ACL the reconciliation does not own, and why."""

    acl: Acl
    why: str
    review: bool = False  # it reaches casesync's resources: an operator should look at it


@dataclass(frozen=True, slots=True)
class AccessPlan:
    """The changes that bring the cluster to what the agreements imply, and what stays."""

    on: date
    prefix: str
    principals_to_create: tuple[WantedPrincipal, ...]
    principals_present: tuple[WantedPrincipal, ...]
    topics_to_create: tuple[WantedTopic, ...]
    topics_present: tuple[WantedTopic, ...]
    acls_to_add: tuple[Grant, ...]
    acls_kept: tuple[Grant, ...]
    acls_to_revoke: tuple[Acl, ...]  # each for the reason UNJUSTIFIED
    left_alone: tuple[LeftAlone, ...]
    idle_users: tuple[str, ...]  # region users in no agreement in force: kept, no ACLs

    @property
    def is_empty(self) -> bool:
        """Whether the cluster already holds exactly what the agreements imply."""
        return not (
            self.principals_to_create
            or self.topics_to_create
            or self.acls_to_add
            or self.acls_to_revoke
        )


def plan_access(
    desired: DesiredAccess,
    actual: ClusterState,
    protected: frozenset[str] = DEFAULT_PROTECTED,
) -> AccessPlan:
    """Compare what the agreements imply with what the cluster holds."""
    wanted = {grant.acl for grant in desired.grants}
    managed: set[Acl] = set()
    left_alone: list[LeftAlone] = []
    regions = frozenset(principal_of(code) for code in desired.region_codes)
    for acl in actual.acls:
        alone = _not_ours(acl, desired.prefix, protected, regions)
        if alone is None:
            managed.add(acl)
        else:
            left_alone.append(alone)
    wanted_users = {p.user for p in desired.principals}
    idle = (actual.users & desired.region_codes) - wanted_users
    return AccessPlan(
        on=desired.on,
        prefix=desired.prefix,
        principals_to_create=tuple(p for p in desired.principals if p.user not in actual.users),
        principals_present=tuple(p for p in desired.principals if p.user in actual.users),
        topics_to_create=tuple(t for t in desired.topics if t.name not in actual.topics),
        topics_present=tuple(t for t in desired.topics if t.name in actual.topics),
        acls_to_add=tuple(g for g in desired.grants if g.acl not in actual.acls),
        acls_kept=tuple(g for g in desired.grants if g.acl in actual.acls),
        acls_to_revoke=tuple(sorted(managed - wanted)),
        left_alone=tuple(sorted(left_alone, key=lambda item: item.acl)),
        idle_users=tuple(sorted(idle)),
    )


def after_applying(actual: ClusterState, plan: AccessPlan) -> ClusterState:
    """The cluster state once ``plan`` has been applied to ``actual``."""
    return replace(
        actual,
        acls=(actual.acls | {g.acl for g in plan.acls_to_add}) - set(plan.acls_to_revoke),
        users=actual.users | {p.user for p in plan.principals_to_create},
        topics=actual.topics | {t.name for t in plan.topics_to_create},
    )


def _not_ours(
    acl: Acl, prefix: str, protected: frozenset[str], regions: frozenset[str]
) -> LeftAlone | None:
    """Why the reconciliation leaves ``acl`` alone, or None when it owns it; one that gives a
    region more than the agreements do is marked for review."""
    if acl.principal in protected:
        return LeftAlone(acl, "held by an administrator")
    if acl.resource_type is ResourceType.CLUSTER:
        return LeftAlone(acl, "on the cluster", review=acl.principal in regions)
    if _reaches_from_outside(acl, prefix):
        return LeftAlone(acl, f"a wildcard or short prefix that reaches {prefix}", review=True)
    if not acl.resource_name.startswith(prefix):
        return LeftAlone(acl, f"on a resource outside {prefix}")
    if acl.permission is not Permission.ALLOW:
        return LeftAlone(acl, "a DENY only narrows access")
    return None


def _reaches_from_outside(acl: Acl, prefix: str) -> bool:
    """Whether an ACL not named under the prefix still matches casesync's resources."""
    if acl.resource_name == WILDCARD_RESOURCE:
        return acl.pattern is PatternType.LITERAL
    return (
        acl.pattern is PatternType.PREFIXED
        and prefix.startswith(acl.resource_name)
        and acl.resource_name != prefix
    )
