"""Plain values for access: ACLs, what the agreements want, and what the cluster holds.

The enums mirror Kafka's by name (``ACLOperation.READ`` is ``Operation.READ``) so the edge maps
them one to one, and the core never imports the Kafka client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

ANY_HOST = "*"


def principal_of(region: str) -> str:
    """The Kafka principal a region connects as: its SCRAM user, named by its code."""
    return f"User:{region}"


class ResourceType(StrEnum):
    """What an ACL is about (Kafka's ``ResourceType``)."""

    TOPIC = "TOPIC"
    GROUP = "GROUP"
    CLUSTER = "CLUSTER"
    TRANSACTIONAL_ID = "TRANSACTIONAL_ID"
    DELEGATION_TOKEN = "DELEGATION_TOKEN"  # noqa: S105 (a resource type, not a secret)
    USER = "USER"
    UNKNOWN = "UNKNOWN"


class PatternType(StrEnum):
    """How an ACL's resource name matches (Kafka's ``ACLResourcePatternType``)."""

    LITERAL = "LITERAL"
    PREFIXED = "PREFIXED"
    UNKNOWN = "UNKNOWN"


class Operation(StrEnum):
    """What an ACL permits or denies (Kafka's ``ACLOperation``)."""

    ALL = "ALL"
    READ = "READ"
    WRITE = "WRITE"
    CREATE = "CREATE"
    DELETE = "DELETE"
    ALTER = "ALTER"
    DESCRIBE = "DESCRIBE"
    CLUSTER_ACTION = "CLUSTER_ACTION"
    DESCRIBE_CONFIGS = "DESCRIBE_CONFIGS"
    ALTER_CONFIGS = "ALTER_CONFIGS"
    IDEMPOTENT_WRITE = "IDEMPOTENT_WRITE"
    CREATE_TOKENS = "CREATE_TOKENS"
    DESCRIBE_TOKENS = "DESCRIBE_TOKENS"
    UNKNOWN = "UNKNOWN"


class Permission(StrEnum):
    """Whether an ACL allows or denies (Kafka's ``ACLPermissionType``)."""

    ALLOW = "ALLOW"
    DENY = "DENY"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, slots=True, order=True)
class Acl:
    """One access control entry; field order sorts a listing by principal, then resource."""

    principal: str  # "User:320623"
    resource_type: ResourceType
    resource_name: str
    pattern: PatternType
    operation: Operation
    permission: Permission = Permission.ALLOW
    host: str = ANY_HOST

    def describe(self) -> str:
        """One line for people: ``User:320623 READ TOPIC casesync.inbox.320623``."""
        text = f"{self.principal} {self.operation} {self.resource_type} {self.resource_name}"
        if self.pattern is not PatternType.LITERAL:
            text += f" ({self.pattern})"
        if self.permission is not Permission.ALLOW:
            text += f" [{self.permission}]"
        if self.host != ANY_HOST:
            text += f" from {self.host}"
        return text


@dataclass(frozen=True, slots=True)
class Grant:
    """An ACL the agreements want, with every rule that justifies it."""

    acl: Acl
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WantedPrincipal:
    """A region's identity on the broker: a SCRAM user named by its code."""

    region: str
    user: str
    principal: str
    reasons: tuple[str, ...]  # the agreements in force that make it a participant


@dataclass(frozen=True, slots=True)
class WantedTopic:
    """A topic casesync needs, and why."""

    name: str
    compacted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class DesiredAccess:
    """Everything the agreements in force on one date imply, under one topic prefix."""

    on: date  # the agreements in force on this date
    prefix: str
    principals: tuple[WantedPrincipal, ...]
    topics: tuple[WantedTopic, ...]
    grants: tuple[Grant, ...]
    region_codes: frozenset[str]  # every catalogue region, in force or not


@dataclass(frozen=True, slots=True)
class ClusterState:
    """What the cluster holds, as read by the edge: ACLs, SCRAM users, topic names."""

    acls: frozenset[Acl]
    users: frozenset[str]  # users with a SCRAM-SHA-512 credential
    topics: frozenset[str]
