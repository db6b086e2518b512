"""A secured broker for access tests, and clients that connect to it as a region or as admin.

These tests need a broker with the standard authorizer and SCRAM-SHA-512 users: the secured
broker ``make up`` starts (or another, through the ``CASESYNC_KAFKA_*`` settings, as admin).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient

from casesync.access.credentials import CredentialsFolder
from casesync.access.desired import desired_access
from casesync.access.kafka_applier import ClusterAccess
from casesync.access.plan import AccessPlan, plan_access
from casesync.adapters.kafka_clients import client_args, new_admin
from casesync.adapters.topics import TopicNames
from casesync.domain.agreements import Agreement
from casesync.domain.catalogue import Catalogue
from casesync.domain.items import ServiceItem
from casesync.domain.regions import Region
from casesync.domain.vocabulary import HandlingMode
from casesync.settings import KafkaAccess, TopicSettings

ON = date(2026, 3, 2)
HOUSING = "002023002000"


@dataclass(frozen=True)
class SecuredBroker:
    """The test session's broker, reached with other credentials than the admin's."""

    kafka: KafkaAccess

    @property
    def bootstrap(self) -> str:
        return self.kafka.bootstrap

    def client_config(self, user: str, password: str) -> dict[str, Any]:
        """Keyword arguments of any kafka-python client connecting as ``user``."""
        security = replace(self.kafka.security, username=user, password=password,
                           secrets_file=None)  # fmt: skip
        return client_args(KafkaAccess(self.kafka.bootstrap, security))


@pytest.fixture(scope="session")
def secured_broker(casesync_kafka: KafkaAccess) -> SecuredBroker:
    """The session's broker, which must enforce ACLs: fails (never skips) when it does not."""
    if not casesync_kafka.security.secured:
        pytest.fail(
            "access tests need the secured broker (`make up` starts one; "
            "CASESYNC_KAFKA_SECURITY=plaintext turns it off)"
        )
    return SecuredBroker(casesync_kafka)


@pytest.fixture
def admin_client(casesync_kafka: KafkaAccess) -> Iterator[KafkaAdminClient]:
    """An admin client connected as the session's (super) user."""
    admin = new_admin(casesync_kafka)
    try:
        yield admin
    finally:
        admin.close()


@dataclass
class AccessWorld:
    """Four fresh regions (random codes, so runs never share users) under a fresh prefix."""

    regions: tuple[str, str, str, str]
    names: TopicNames
    access: ClusterAccess
    credentials: CredentialsFolder
    broker: SecuredBroker

    def agreement(self, a: str, b: str) -> Agreement:
        """A bilateral agreement sharing the housing-fund item between ``a`` and ``b``."""
        return Agreement(f"{a}-{b}", f"{a}—{b}", national=False, members=frozenset({a, b}),
                         items=frozenset({HOUSING}), effective_from=date(2021, 1, 1))  # fmt: skip

    def catalogue(self, *agreements: Agreement) -> Catalogue:
        """The four regions and one item with only the agreements given."""
        item = ServiceItem(HOUSING, "购房提取住房公积金", "公积金", "公共服务", 5, frozenset(),
                           frozenset({HandlingMode.FULLY_ONLINE}))  # fmt: skip
        regions = [Region(code, code, code, "county", gbt2260=False) for code in self.regions]
        no_materials = {(HOUSING, code): () for code in self.regions}  # a recorder asks
        return Catalogue(regions, [item], agreements, [], no_materials, {})

    def plan(self, *agreements: Agreement) -> AccessPlan:
        """The plan that brings the broker to what ``agreements`` imply."""
        desired = desired_access(self.catalogue(*agreements), self.names, ON)
        return plan_access(desired, self.access.read_state())

    def apply(self, *agreements: Agreement) -> AccessPlan:
        """Plan and apply; returns the plan applied."""
        plan = self.plan(*agreements)
        self.access.apply(plan)
        return plan

    def client_config(self, region: str) -> dict[str, Any]:
        """Client settings of ``region``'s principal, password read from its credentials file."""
        lines = self.credentials.path_for(region).read_text().splitlines()
        values = dict(line.split("=", 1) for line in lines)
        return self.broker.client_config(values["username"], values["password"])


@pytest.fixture
def access_world(
    secured_broker: SecuredBroker, admin_client: KafkaAdminClient, tmp_path: Path
) -> Iterator[AccessWorld]:
    """Four new regions under a new topic prefix; their topics are deleted afterwards."""
    base = 900000 + secrets.randbelow(99990)  # 9xxxxx: no real GB/T 2260 code
    regions = (str(base), str(base + 1), str(base + 2), str(base + 3))
    names = TopicNames(f"casesync.t{secrets.token_hex(4)}.")
    credentials = CredentialsFolder(tmp_path / "secrets")
    access = ClusterAccess(admin_client, secured_broker.bootstrap, TopicSettings(partitions=1),
                         credentials)  # fmt: skip
    world = AccessWorld(regions, names, access, credentials, secured_broker)
    try:
        yield world
    finally:
        world.access.apply(world.plan())  # revoke every ACL of the test regions
        _delete_topics(admin_client, names.prefix)


def _delete_topics(admin: KafkaAdminClient, prefix: str) -> None:
    doomed = [topic for topic in admin.list_topics() if topic.startswith(prefix)]
    if doomed:
        admin.delete_topics(doomed)
