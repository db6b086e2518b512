"""What the agreements in force imply: principals, topics and the exact ACLs of each region."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from casesync.access.model import Acl, Grant, Operation, PatternType, Permission, ResourceType
from casesync.adapters.topics import TopicNames

from .conftest import (
    NAMES,
    NATIONAL,
    RUDONG,
    RUDONG_TONGXIANG,
    SUZHOU,
    SUZHOU_YINCHUAN,
    TONGXIANG,
    YINCHUAN,
    DesiredFactory,
)

TOPIC, GROUP = ResourceType.TOPIC, ResourceType.GROUP
READ, WRITE = Operation.READ, Operation.WRITE


def _acl(region: str, kind: ResourceType, name: str, operation: Operation) -> Acl:
    return Acl(f"User:{region}", kind, name, PatternType.LITERAL, operation)


def _acls_of(grants: Iterable[Grant], region: str) -> set[Acl]:
    return {g.acl for g in grants if g.acl.principal == f"User:{region}"}


def test_a_bilateral_agreement_gives_each_member_exactly_its_grants(
    desired_for: DesiredFactory,
) -> None:
    """Rudong in one agreement with Tongxiang may read its inbox, group, dead letters and the
    schema log and the manifest, write its dead letters, the schema log and Tongxiang's inbox:
    nothing else."""
    desired = desired_for(RUDONG_TONGXIANG)
    assert _acls_of(desired.grants, RUDONG) == {
        _acl(RUDONG, TOPIC, "casesync.inbox.320623", READ),
        _acl(RUDONG, GROUP, "casesync.consumer.320623", READ),
        _acl(RUDONG, TOPIC, "casesync.dlq.320623", READ),
        _acl(RUDONG, TOPIC, "casesync.dlq.320623", WRITE),
        _acl(RUDONG, TOPIC, "casesync.schemas", READ),
        _acl(RUDONG, TOPIC, "casesync.schemas", WRITE),
        _acl(RUDONG, TOPIC, "casesync.manifest", READ),
        _acl(RUDONG, TOPIC, "casesync.inbox.330483", WRITE),
    }
    assert [p.principal for p in desired.principals] == ["User:320623", "User:330483"]


def test_regions_outside_every_agreement_in_force_get_nothing(
    desired_for: DesiredFactory,
) -> None:
    """Suzhou and Yinchuan, in no agreement in force, have no principal, topic or grant."""
    desired = desired_for(RUDONG_TONGXIANG)
    mentioned = {g.acl.principal for g in desired.grants} | {
        t.name for t in desired.topics if SUZHOU in t.name or YINCHUAN in t.name
    }
    assert mentioned == {"User:320623", "User:330483"}


def test_no_region_may_write_an_inbox_it_shares_nothing_with(
    desired_for: DesiredFactory,
) -> None:
    """Two bilateral agreements grant no write across them: Rudong never writes Suzhou's inbox."""
    desired = desired_for(RUDONG_TONGXIANG, SUZHOU_YINCHUAN)
    writes = {(g.acl.principal, g.acl.resource_name) for g in desired.grants
              if g.acl.operation is WRITE and ".inbox." in g.acl.resource_name}  # fmt: skip
    assert writes == {
        ("User:320623", "casesync.inbox.330483"),
        ("User:330483", "casesync.inbox.320623"),
        ("User:320500", "casesync.inbox.640100"),
        ("User:640100", "casesync.inbox.320500"),
    }


def test_a_national_item_lets_every_region_write_every_other_inbox(
    desired_for: DesiredFactory,
) -> None:
    """With a national list in force all four regions take part, and each writes the three
    other inboxes (never its own)."""
    desired = desired_for(NATIONAL)
    regions = [RUDONG, TONGXIANG, SUZHOU, YINCHUAN]
    assert {p.region for p in desired.principals} == set(regions)
    for region in regions:
        written = {a.resource_name for a in _acls_of(desired.grants, region)
                   if a.operation is WRITE and ".inbox." in a.resource_name}  # fmt: skip
        assert written == {NAMES.inbox(other) for other in regions if other != region}


def test_every_grant_says_which_agreement_or_rule_justifies_it(
    desired_for: DesiredFactory,
) -> None:
    """Rudong's write to Tongxiang's inbox names the bilateral agreement, the national list and
    the workflow whose answers travel there; its own grants name their rule."""
    desired = desired_for(RUDONG_TONGXIANG, NATIONAL)
    reasons = {g.acl: g.reasons for g in desired.grants}
    to_tongxiang = reasons[_acl(RUDONG, TOPIC, "casesync.inbox.330483", WRITE)]
    assert any("rudong-tongxiang" in r for r in to_tongxiang)
    assert any("national-batch" in r for r in to_tongxiang)
    assert any("workflow medical-transfer" in r for r in to_tongxiang)
    to_suzhou = reasons[_acl(RUDONG, TOPIC, "casesync.inbox.320500", WRITE)]
    assert not any("rudong-tongxiang" in r or "workflow" in r for r in to_suzhou)
    assert all(reasons.values())


def test_grants_are_literal_allows_of_read_or_write_under_the_prefix_only(
    desired_for: DesiredFactory,
) -> None:
    """No CREATE, no cluster ACL, no DESCRIBE alone, no prefix pattern, no DENY, and every
    topic a region writes to it may also WRITE (no describe-only trap for its producer)."""
    desired = desired_for(RUDONG_TONGXIANG, SUZHOU_YINCHUAN, NATIONAL)
    for grant in desired.grants:
        acl = grant.acl
        assert acl.operation in (READ, WRITE)
        assert acl.resource_type in (TOPIC, GROUP)
        assert acl.pattern is PatternType.LITERAL
        assert acl.permission is Permission.ALLOW
        assert acl.host == "*"
        assert acl.resource_name.startswith("casesync.")


def test_an_agreement_counts_only_while_in_force(desired_for: DesiredFactory) -> None:
    """An agreement that ended yesterday, or starts tomorrow, implies nothing today."""
    ended = replace(RUDONG_TONGXIANG, effective_until=date(2026, 3, 1))
    future = replace(SUZHOU_YINCHUAN, effective_from=date(2026, 3, 3))
    desired = desired_for(ended, future)
    assert desired.principals == ()
    assert desired.grants == ()
    assert desired.topics == ()


def test_topics_are_each_regions_inbox_and_dead_letters_and_the_compacted_schema_log(
    desired_for: DesiredFactory,
) -> None:
    """Two regions need four topics of their own and the shared, compacted schema log and
    manifest."""
    desired = desired_for(RUDONG_TONGXIANG)
    assert {(t.name, t.compacted) for t in desired.topics} == {
        ("casesync.inbox.320623", False),
        ("casesync.dlq.320623", False),
        ("casesync.inbox.330483", False),
        ("casesync.dlq.330483", False),
        ("casesync.schemas", True),
        ("casesync.manifest", True),
    }


def test_names_follow_the_configured_prefix(desired_for: DesiredFactory) -> None:
    """Under another prefix every topic and group ACL is named under that prefix."""
    desired = desired_for(RUDONG_TONGXIANG, names=TopicNames("staging.casesync."))
    assert desired.prefix == "staging.casesync."
    assert all(g.acl.resource_name.startswith("staging.casesync.") for g in desired.grants)
    assert _acl(TONGXIANG, TOPIC, "staging.casesync.inbox.330483", READ) in {
        g.acl for g in desired.grants
    }
