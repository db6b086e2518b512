"""Desired against actual: create, grant, revoke what no agreement justifies, leave the rest."""

from __future__ import annotations

from casesync.access.model import (
    Acl,
    ClusterState,
    Operation,
    PatternType,
    Permission,
    ResourceType,
)
from casesync.access.plan import after_applying, plan_access

from .conftest import (
    NATIONAL,
    RUDONG,
    RUDONG_TONGXIANG,
    SUZHOU,
    SUZHOU_YINCHUAN,
    TONGXIANG,
    YINCHUAN,
    DesiredFactory,
)

EMPTY = ClusterState(acls=frozenset(), users=frozenset({"admin"}), topics=frozenset())
TOPIC, GROUP = ResourceType.TOPIC, ResourceType.GROUP


def _acl(
    principal: str, name: str, operation: Operation, permission: Permission = Permission.ALLOW
) -> Acl:
    return Acl(principal, TOPIC, name, PatternType.LITERAL, operation, permission)


def test_an_empty_cluster_gets_every_principal_topic_and_acl(desired_for: DesiredFactory) -> None:
    """Against a cluster holding only the admin, the plan creates both regions' users, their
    topics, the schema log and the manifest log, and grants every wanted ACL."""
    desired = desired_for(RUDONG_TONGXIANG)
    plan = plan_access(desired, EMPTY)
    assert [p.user for p in plan.principals_to_create] == [RUDONG, TONGXIANG]
    assert len(plan.topics_to_create) == 6
    assert plan.acls_to_add == desired.grants
    assert plan.acls_to_revoke == ()
    assert not plan.is_empty


def test_the_plan_of_the_applied_state_is_empty(desired_for: DesiredFactory) -> None:
    """Applying a plan and planning again changes nothing: reconciliation is idempotent."""
    desired = desired_for(RUDONG_TONGXIANG, SUZHOU_YINCHUAN, NATIONAL)
    applied = after_applying(EMPTY, plan_access(desired, EMPTY))
    again = plan_access(desired, applied)
    assert again.is_empty
    assert len(again.acls_kept) == len(desired.grants)
    assert len(again.principals_present) == 4


def test_removing_an_agreement_revokes_the_grants_it_justified(
    desired_for: DesiredFactory,
) -> None:
    """Once Suzhou–Yinchuan is gone, its two regions lose every ACL (their users stay, listed
    as idle) and Rudong–Tongxiang keep theirs."""
    before = after_applying(
        EMPTY, plan_access(desired_for(RUDONG_TONGXIANG, SUZHOU_YINCHUAN), EMPTY)
    )
    plan = plan_access(desired_for(RUDONG_TONGXIANG), before)
    revoked = {acl.principal for acl in plan.acls_to_revoke}
    assert revoked == {f"User:{SUZHOU}", f"User:{YINCHUAN}"}
    assert _acl(f"User:{SUZHOU}", "casesync.inbox.640100", Operation.WRITE) in plan.acls_to_revoke
    assert len(plan.acls_to_revoke) == 16  # 8 each
    assert plan.acls_to_add == ()
    assert plan.principals_to_create == ()
    assert plan.idle_users == (SUZHOU, YINCHUAN)
    assert plan_access(desired_for(RUDONG_TONGXIANG), after_applying(before, plan)).is_empty


def test_narrowing_from_national_to_bilateral_revokes_the_cross_writes(
    desired_for: DesiredFactory,
) -> None:
    """When the national list lapses, Rudong may no longer write Suzhou's inbox but still
    writes Tongxiang's."""
    before = after_applying(EMPTY, plan_access(desired_for(RUDONG_TONGXIANG, NATIONAL), EMPTY))
    plan = plan_access(desired_for(RUDONG_TONGXIANG), before)
    rudong = f"User:{RUDONG}"
    assert _acl(rudong, "casesync.inbox.320500", Operation.WRITE) in plan.acls_to_revoke
    assert _acl(rudong, "casesync.inbox.330483", Operation.WRITE) not in plan.acls_to_revoke


def test_an_unjustified_grant_under_the_prefix_is_revoked(desired_for: DesiredFactory) -> None:
    """A hand-made DESCRIBE on another inbox, or a PREFIXED read of every inbox, is revoked."""
    desired = desired_for(RUDONG_TONGXIANG)
    stray_describe = _acl(f"User:{RUDONG}", "casesync.inbox.330483", Operation.DESCRIBE)
    stray_prefix = Acl(
        f"User:{TONGXIANG}", TOPIC, "casesync.inbox.", PatternType.PREFIXED, Operation.READ
    )
    applied = after_applying(EMPTY, plan_access(desired, EMPTY))
    tampered = ClusterState(applied.acls | {stray_describe, stray_prefix}, applied.users,
                            applied.topics)  # fmt: skip
    plan = plan_access(desired, tampered)
    assert set(plan.acls_to_revoke) == {stray_describe, stray_prefix}
    assert plan.acls_to_add == ()


def test_foreign_admin_and_deny_acls_are_left_alone(desired_for: DesiredFactory) -> None:
    """ACLs of the admin, on other applications' topics, on the cluster, and DENY entries are
    never revoked; a wildcard or a cluster grant held by a region is flagged for review."""
    admin = _acl("User:admin", "casesync.inbox.330483", Operation.ALL)
    foreign = _acl(f"User:{RUDONG}", "billing.invoices", Operation.WRITE)
    deny = _acl(f"User:{RUDONG}", "casesync.inbox.330483", Operation.READ,
                permission=Permission.DENY)  # fmt: skip
    wildcard = _acl("User:monitor", "*", Operation.READ)
    short_prefix = Acl("User:monitor", GROUP, "case", PatternType.PREFIXED, Operation.READ)
    cluster = Acl(f"User:{RUDONG}", ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL,
                  Operation.CREATE)  # fmt: skip
    others = frozenset({admin, foreign, deny, wildcard, short_prefix, cluster})
    plan = plan_access(
        desired_for(RUDONG_TONGXIANG), ClusterState(others, EMPTY.users, EMPTY.topics)
    )
    assert plan.acls_to_revoke == ()
    assert {item.acl for item in plan.left_alone} == others
    flagged = {item.acl for item in plan.left_alone if item.review}
    assert flagged == {wildcard, short_prefix, cluster}


def test_existing_users_and_topics_are_kept_not_recreated(desired_for: DesiredFactory) -> None:
    """A region whose user and inbox exist is neither created again nor given a new password."""
    state = ClusterState(frozenset(), frozenset({"admin", RUDONG}),
                         frozenset({"casesync.inbox.320623", "casesync.schemas",
                                    "casesync.manifest"}))  # fmt: skip
    plan = plan_access(desired_for(RUDONG_TONGXIANG), state)
    assert [p.user for p in plan.principals_to_create] == [TONGXIANG]
    assert [p.user for p in plan.principals_present] == [RUDONG]
    created = {t.name for t in plan.topics_to_create}
    assert created == {"casesync.dlq.320623", "casesync.inbox.330483", "casesync.dlq.330483"}
