"""A plan for people (+, -, = counts, reasons, a verdict line) and as JSON."""

from __future__ import annotations

import json

from casesync.access.model import ClusterState
from casesync.access.plan import after_applying, plan_access
from casesync.access.render import NO_CHANGE, plan_document, plan_lines

from .conftest import RUDONG_TONGXIANG, SUZHOU_YINCHUAN, DesiredFactory

EMPTY = ClusterState(acls=frozenset(), users=frozenset({"admin"}), topics=frozenset())


def test_a_first_plan_counts_and_justifies_each_addition(desired_for: DesiredFactory) -> None:
    """Every section has its +/= counts, each new ACL is followed by its reasons, and the last
    line says what apply would do."""
    lines = plan_lines(plan_access(desired_for(RUDONG_TONGXIANG), EMPTY))
    assert "principals: +2 =0" in lines
    assert "topics: +6 =0" in lines
    assert "ACLs: +16 -0 =0" in lines
    at = lines.index("  + User:320623 WRITE TOPIC casesync.inbox.330483")
    assert lines[at + 1].startswith("      because to 330483: agreement rudong-tongxiang")
    assert lines[-1].startswith("to apply: 2 principal(s), 6 topic(s), 16 ACL(s) to grant, 0")


def test_an_applied_state_prints_no_change(desired_for: DesiredFactory) -> None:
    """Planning the applied state ends with the line "no change" and lists no + or - line."""
    desired = desired_for(RUDONG_TONGXIANG)
    lines = plan_lines(plan_access(desired, after_applying(EMPTY, plan_access(desired, EMPTY))))
    assert lines[-1] == NO_CHANGE
    assert "ACLs: +0 -0 =16" in lines
    assert not [line for line in lines if line.startswith(("  +", "  -"))]


def test_revocations_are_named_as_such(desired_for: DesiredFactory) -> None:
    """A removed agreement's ACLs are listed with "-" and "no agreement justifies it", and its
    idle users are named."""
    before = after_applying(
        EMPTY, plan_access(desired_for(RUDONG_TONGXIANG, SUZHOU_YINCHUAN), EMPTY)
    )
    lines = plan_lines(plan_access(desired_for(RUDONG_TONGXIANG), before))
    assert (
        "  - User:320500 WRITE TOPIC casesync.inbox.640100  (revoke: no agreement justifies it)"
        in lines
    )
    assert "users in no agreement in force (kept, without ACLs): 320500, 640100" in lines


def test_show_unchanged_lists_what_is_in_place(desired_for: DesiredFactory) -> None:
    """With show_unchanged every kept principal, topic and ACL appears with "="."""
    desired = desired_for(RUDONG_TONGXIANG)
    applied = after_applying(EMPTY, plan_access(desired, EMPTY))
    lines = plan_lines(plan_access(desired, applied), show_unchanged=True)
    assert "  = User:330483" in lines
    assert "  = casesync.schemas" in lines
    kept_acls = [line for line in lines if line.startswith("  = User:") and line.count(" ") > 4]
    assert len(kept_acls) == 16


def test_the_json_document_carries_changes_and_reasons(desired_for: DesiredFactory) -> None:
    """The JSON plan says whether anything changes and gives each ACL in Kafka's terms with
    its reasons; it serialises as JSON."""
    document = plan_document(plan_access(desired_for(RUDONG_TONGXIANG), EMPTY))
    json.dumps(document)
    assert document["changes"] is True
    added = document["acls"]["add"]
    assert len(added) == 16
    first = added[0]
    assert set(first) == {"principal", "resource_type", "resource_name", "pattern_type",
                          "operation", "permission_type", "host", "reasons"}  # fmt: skip
    assert first["reasons"]
    assert document["principals"]["create"][0]["region"] == "320623"
