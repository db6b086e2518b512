"""Our ACL values and kafka-python's correspond one to one (no broker involved)."""

from __future__ import annotations

from kafka.admin import ACLOperation, ACLResourcePatternType, ResourceType

from casesync.access.kafka_applier import from_kafka, to_kafka
from casesync.access.model import Acl, Operation, PatternType, Permission
from casesync.access.model import ResourceType as OurResourceType


def test_an_acl_survives_the_round_trip_through_kafka_python() -> None:
    """A prefixed DENY from one host maps to kafka-python's enums and back unchanged."""
    ours = Acl("User:320623", OurResourceType.GROUP, "casesync.consumer.", PatternType.PREFIXED,
               Operation.DESCRIBE, Permission.DENY, "10.0.0.1")  # fmt: skip
    theirs = to_kafka(ours)
    assert theirs.operation is ACLOperation.DESCRIBE
    assert theirs.resource_pattern.resource_type is ResourceType.GROUP
    assert theirs.resource_pattern.pattern_type is ACLResourcePatternType.PREFIXED
    assert from_kafka(theirs) == ours


def test_every_kafka_enum_member_has_a_counterpart() -> None:
    """Whatever a broker answers, its operation, resource and pattern have a name of ours."""
    for operation in ACLOperation:
        if operation.name != "ANY":
            Operation(operation.name)
    for kind in ResourceType:
        if kind.name != "ANY":
            OurResourceType(kind.name)
    for pattern in ACLResourcePatternType:
        if pattern.name not in ("ANY", "MATCH"):
            PatternType(pattern.name)
