"""Access applied to a real secured broker: idempotent, revocable, and enforced per region."""

from __future__ import annotations

import stat
import time
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import AuthorizationError

from .conftest import AccessWorld

pytestmark = [pytest.mark.integration, pytest.mark.secured]


def _send(config: dict[str, Any], topic: str) -> None:
    producer = KafkaProducer(**config, acks="all", max_block_ms=10_000)
    try:
        producer.send(topic, key=b"case-1", value=b"probe").get(timeout=10)
    finally:
        producer.close()


def _read_first(config: dict[str, Any], topic: str, group: str) -> bytes | None:
    """The first record of partition 0, by polling, or None.

    Assigned, not subscribed: kafka-python 3.0.12 only logs a refused subscription and polls
    nothing, while a refused assigned partition raises from ``poll`` (an explicit seek hides
    the refusal too: its offset lookups are retried quietly).
    """
    consumer = KafkaConsumer(**config, group_id=group, enable_auto_commit=False,
                             auto_offset_reset="earliest")  # fmt: skip
    try:
        consumer.assign([TopicPartition(topic, 0)])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                return bytes(records[0].value)
        return None
    finally:
        consumer.close()


def test_plan_after_apply_shows_no_change(access_world: AccessWorld) -> None:
    """Applying the agreements' plan and planning again gives an empty plan; each new
    principal's credentials file is private."""
    a, b, _, _ = access_world.regions
    first = access_world.apply(access_world.agreement(a, b))
    assert [p.user for p in first.principals_to_create] == [a, b]
    assert len(first.acls_to_add) == 16  # 8 each, the manifest log read among them
    again = access_world.plan(access_world.agreement(a, b))
    assert again.is_empty, again
    mode = access_world.credentials.path_for(a).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_an_agreement_lets_its_regions_deliver_and_read(access_world: AccessWorld) -> None:
    """Region A writes B's inbox and B reads it with its group: the grants work."""
    a, b, _, _ = access_world.regions
    names = access_world.names
    access_world.apply(access_world.agreement(a, b))
    _send(access_world.client_config(a), names.inbox(b))
    first = _read_first(access_world.client_config(b), names.inbox(b), names.group(b))
    assert first == b"probe"


def test_a_third_region_cannot_read_another_regions_inbox_or_dead_letters(
    access_world: AccessWorld,
) -> None:
    """Region C, in an agreement of its own, is refused B's inbox and B's dead letters."""
    a, b, c, d = access_world.regions
    names = access_world.names
    access_world.apply(access_world.agreement(a, b), access_world.agreement(c, d))
    for topic in (names.inbox(b), names.dlq(b)):
        with pytest.raises(AuthorizationError):
            _read_first(access_world.client_config(c), topic, names.group(c))


def test_a_region_cannot_write_an_inbox_it_has_no_agreement_with(
    access_world: AccessWorld,
) -> None:
    """Region A, partnered with B only, cannot deliver to D's inbox."""
    a, b, c, d = access_world.regions
    names = access_world.names
    access_world.apply(access_world.agreement(a, b), access_world.agreement(c, d))
    with pytest.raises(AuthorizationError):
        _send(access_world.client_config(a), names.inbox(d))


def test_a_region_cannot_create_topics(access_world: AccessWorld) -> None:
    """A region's principal asking to create a topic under the prefix is refused."""
    a, b, _, _ = access_world.regions
    access_world.apply(access_world.agreement(a, b))
    admin = KafkaAdminClient(**access_world.client_config(a))
    try:
        with pytest.raises(AuthorizationError):
            admin.create_topics(
                {access_world.names.inbox("999999"): {"num_partitions": 1}}, raise_errors=True
            )
    finally:
        admin.close()


def test_removing_an_agreement_revokes_its_acls(access_world: AccessWorld) -> None:
    """With A–C removed, applying again revokes A's write on C's inbox (and C's on A's), A's
    delivery there is refused, and A still delivers to B."""
    a, b, c, _ = access_world.regions
    names = access_world.names
    access_world.apply(access_world.agreement(a, b), access_world.agreement(a, c))
    _send(access_world.client_config(a), names.inbox(c))
    plan = access_world.apply(access_world.agreement(a, b))
    revoked = {(acl.principal, acl.resource_name) for acl in plan.acls_to_revoke}
    assert (f"User:{a}", names.inbox(c)) in revoked
    assert (f"User:{c}", names.inbox(a)) in revoked
    assert access_world.plan(access_world.agreement(a, b)).is_empty
    with pytest.raises(AuthorizationError):
        _send(access_world.client_config(a), names.inbox(c))
    _send(access_world.client_config(a), names.inbox(b))
