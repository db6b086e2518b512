"""The Kafka edge of access: read users, topics and ACLs, and apply a plan, as an administrator.

The caller builds the ``KafkaAdminClient`` (with the administrator's credentials) and closes it;
this module only speaks through it and translates its errors into ``casesync.access.errors``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import structlog
from kafka import KafkaAdminClient
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourcePatternFilter,
    ScramMechanism,
    UserScramCredentialUpsertion,
)
from kafka.admin import ResourceType as KafkaResourceType
from kafka.errors import (
    AuthorizationError,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    SecurityDisabledError,
)

from casesync.access.credentials import CredentialsFolder
from casesync.access.errors import AdminRefused, ChangeNotVisible, ChangeRefused, NoAuthorizer
from casesync.access.model import (
    Acl,
    ClusterState,
    Grant,
    Operation,
    PatternType,
    Permission,
    ResourceType,
    principal_of,
)
from casesync.access.plan import AccessPlan
from casesync.adapters.topics import create_missing_topics
from casesync.settings import TopicSettings

log = structlog.get_logger(__name__)

# Every ACL of the cluster: any principal, host, operation, permission, resource and pattern.
_EVERY_ACL = ACLFilter(
    None,
    None,
    ACLOperation.ANY,
    ACLPermissionType.ANY,
    ResourcePatternFilter(KafkaResourceType.ANY, None, ACLResourcePatternType.ANY),
)
_MECHANISM = ScramMechanism.SCRAM_SHA_512
# ACLs per CreateAcls/DeleteAcls request: the national topology's ~51,000 in one request time
# out on the controller (REQUEST_TIMED_OUT); a thousand take well under a second each.
ACLS_PER_REQUEST = 1000


@dataclass(frozen=True, slots=True)
class AppliedAccess:
    """What ``ClusterAccess.apply`` changed on the cluster."""

    principals_created: tuple[tuple[str, Path], ...]  # (principal, its credentials file)
    topics_created: tuple[str, ...]
    acls_granted: tuple[Grant, ...]
    acls_revoked: tuple[Acl, ...]

    @property
    def changed(self) -> bool:
        """Whether anything was created, granted or revoked."""
        return bool(
            self.principals_created or self.topics_created or self.acls_granted or self.acls_revoked
        )


class ClusterAccess:
    """Reads the cluster's access state and applies plans through one admin client."""

    def __init__(
        self,
        admin: KafkaAdminClient,
        where: str,
        topics: TopicSettings,
        credentials: CredentialsFolder,
        visible_within_s: float = 30.0,
    ) -> None:
        """``where`` names the cluster in errors (its bootstrap address); changes the broker
        accepted must show when read back within ``visible_within_s`` (a bound, not a wait: a
        fresh broker on a busy machine took more than 5 s to show the demo's 952 ACLs)."""
        self._admin = admin
        self._where = where
        self._topics = topics
        self._credentials = credentials
        self._visible_within_s = visible_within_s

    def read_state(self) -> ClusterState:
        """Every ACL, every user with a SCRAM-SHA-512 credential, and every topic name."""
        with self._translated("read ACLs and users"):
            return ClusterState(
                acls=self._acls(), users=self._users(), topics=frozenset(self._admin.list_topics())
            )

    def apply(self, plan: AccessPlan) -> AppliedAccess:
        """Reconcile the cluster with ``plan``; each step waits until its change is visible."""
        # 1. Principals first, each password saved in its file before the broker hears of it.
        # 2. Topics, so a region granted READ finds its inbox.
        # 3. Grants before revocations: they never overlap, and a region keeps what it keeps.
        # 4. Revocations last; a revoked ACL is gone for new requests once it is unreadable.
        created = self._create_principals(plan)
        topics = self._create_topics(plan)
        self._grant(plan.acls_to_add)
        self._revoke(plan.acls_to_revoke)
        return AppliedAccess(created, topics, plan.acls_to_add, plan.acls_to_revoke)

    def issue_credentials(self, users: Iterable[str]) -> tuple[tuple[str, Path], ...]:
        """Give each of ``users`` a new password (creating the user when missing), saved in its
        credentials file first; returns (principal, credentials file) per user.

        Also how a principal whose credentials file was lost gets a usable one again.
        """
        users = sorted(set(users))
        if not users:
            return ()
        upserts = [
            UserScramCredentialUpsertion(user, _MECHANISM, self._credentials.new_password(user))
            for user in users
        ]
        with self._translated("create users"):
            answers = self._admin.alter_user_scram_credentials(upserts)
        failed = {user: error for user, error in answers.items() if error}
        if failed:
            reasons = "; ".join(f"{user}: {error}" for user, error in sorted(failed.items()))
            raise ChangeRefused(f"create {len(failed)} user(s)", reasons)
        self._wait_until(lambda: set(users) <= self._users(), f"{len(users)} new user(s)")
        return tuple((principal_of(user), self._credentials.path_for(user)) for user in users)

    def revoke_under(self, prefix: str, protected: frozenset[str]) -> tuple[Acl, ...]:
        """Revoke every ACL on a resource named under ``prefix``, except those of ``protected``
        principals: for throw-away prefixes (a demo run's), whose topics are deleted."""
        if not prefix:
            raise ValueError("an empty prefix would name every resource")
        doomed = tuple(
            sorted(
                acl
                for acl in self._acls()
                if acl.resource_name.startswith(prefix) and acl.principal not in protected
            )
        )
        self._revoke(doomed)
        return doomed

    def _create_principals(self, plan: AccessPlan) -> tuple[tuple[str, Path], ...]:
        created = self.issue_credentials(p.user for p in plan.principals_to_create)
        for principal, _ in created:
            log.info("principal created", principal=principal)
        return created

    def _create_topics(self, plan: AccessPlan) -> tuple[str, ...]:
        if not plan.topics_to_create:
            return ()
        plain = [t.name for t in plan.topics_to_create if not t.compacted]
        compacted = [t.name for t in plan.topics_to_create if t.compacted]
        with self._translated("create topics"):
            return tuple(create_missing_topics(self._admin, self._topics, plain, compacted))

    def _grant(self, grants: tuple[Grant, ...]) -> None:
        if not grants:
            return
        wanted = {grant.acl for grant in grants}
        ordered = sorted(wanted)
        for start in range(0, len(ordered), ACLS_PER_REQUEST):
            chunk = ordered[start : start + ACLS_PER_REQUEST]
            with self._translated("create ACLs"):
                answer = self._admin.create_acls([to_kafka(acl) for acl in chunk])
            if answer["failed"]:
                errors = sorted({getattr(e, "message", str(e)) for e in answer["failed"]})
                raise ChangeRefused(f"grant {len(answer['failed'])} ACL(s)", ", ".join(errors))
        # New ACLs take effect some tens of milliseconds after the answer: wait to see them.
        self._wait_until(lambda: wanted <= self._acls(), f"{len(wanted)} new ACL(s)")
        log.info("ACLs granted", count=len(wanted))

    def _revoke(self, acls: tuple[Acl, ...]) -> None:
        if not acls:
            return
        doomed = set(acls)
        ordered = sorted(doomed)
        answers = []
        for start in range(0, len(ordered), ACLS_PER_REQUEST):
            chunk = ordered[start : start + ACLS_PER_REQUEST]
            with self._translated("delete ACLs"):
                answers.extend(self._admin.delete_acls([to_kafka(acl) for acl in chunk]))
        errors = sorted({e.message for _, _, e in answers if e.errno != 0})
        if errors:
            raise ChangeRefused(f"revoke {len(doomed)} ACL(s)", ", ".join(errors))
        self._wait_until(lambda: not doomed & self._acls(), f"{len(doomed)} revoked ACL(s)")
        log.info("ACLs revoked", count=len(doomed), reason="no agreement justifies them")

    def _acls(self) -> frozenset[Acl]:
        acls, _ = self._admin.describe_acls(_EVERY_ACL)  # raises on a broker error
        return frozenset(from_kafka(acl) for acl in acls)

    def _users(self) -> frozenset[str]:
        described = self._admin.describe_user_scram_credentials()
        return frozenset(
            user
            for user, answer in described.items()
            if any(info["mechanism"] == _MECHANISM for info in answer["credential_infos"])
        )

    def _wait_until(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self._visible_within_s
        pause = 0.02
        with self._translated(f"read back {what}"):
            while not done():
                if time.monotonic() >= deadline:
                    raise ChangeNotVisible(what, self._visible_within_s)
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    @contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        try:
            yield
        except SecurityDisabledError as e:
            raise NoAuthorizer(self._where) from e
        except AuthorizationError as e:
            raise AdminRefused(what, self._where) from e
        except (KafkaTimeoutError, KafkaConnectionError):
            raise  # the admin client's owner turns these into one Unreachable line
        except KafkaError as e:
            raise ChangeRefused(what, type(e).__name__) from e


def to_kafka(acl: Acl) -> ACL:
    """The kafka-python ACL for one of ours (the enums match by name)."""
    return ACL(
        principal=acl.principal,
        host=acl.host,
        operation=ACLOperation[acl.operation.value],
        permission_type=ACLPermissionType[acl.permission.value],
        resource_pattern=ResourcePattern(
            KafkaResourceType[acl.resource_type.value],
            acl.resource_name,
            ACLResourcePatternType[acl.pattern.value],
        ),
    )


def from_kafka(acl: ACL) -> Acl:
    """Ours for a kafka-python ACL as ``describe_acls`` returns it."""
    pattern = acl.resource_pattern
    return Acl(
        principal=acl.principal,
        resource_type=ResourceType(pattern.resource_type.name),
        resource_name=pattern.resource_name,
        pattern=PatternType(pattern.pattern_type.name),
        operation=Operation(acl.operation.name),
        permission=Permission(acl.permission_type.name),
        host=acl.host,
    )
