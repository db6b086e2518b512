"""What the agreements in force imply: one principal per region, its topics, and its ACLs.

Per region R taking part in an agreement in force (a national list makes every catalogue region
take part), and nothing else (no CREATE, no cluster ACLs):
  - READ its inbox and its consumer group: its consumer reads what is addressed to it;
  - WRITE the inbox of every region it shares an item with: its relay delivers there, and a
    workflow's answers go to the requesting region's inbox;
  - READ and WRITE its own dead-letter topic;
  - READ and WRITE the shared schema log: its relay publishes its writer schema there, its
    consumer looks schemas up by fingerprint.
Every grant is LITERAL: no rule needs a prefix, and a prefix would also reach inboxes that do not
exist yet. No grant gives DESCRIBE alone on a topic the region produces to, because a refused send
to such a topic kills an idempotent producer for every topic (READ implies DESCRIBE only on
topics the region never produces to: its own inbox).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from casesync.access.model import (
    Acl,
    DesiredAccess,
    Grant,
    Operation,
    PatternType,
    ResourceType,
    WantedPrincipal,
    WantedTopic,
    principal_of,
)
from casesync.adapters.topics import TopicNames
from casesync.domain.agreements import Agreement
from casesync.domain.catalogue import Catalogue


def desired_access(catalogue: Catalogue, names: TopicNames, on: date) -> DesiredAccess:
    """The principals, topics and ACLs the catalogue's agreements in force on ``on`` imply."""
    in_force = sorted(
        (a for a in catalogue.agreements.values() if a.in_force(on)), key=lambda a: a.id
    )
    members = {a.id: _members(a, catalogue.regions) for a in in_force}
    participants: dict[str, list[str]] = defaultdict(list)
    for agreement in in_force:
        for region in members[agreement.id]:
            participants[region].append(agreement.id)

    grants: list[Grant] = []
    topics: list[WantedTopic] = []
    for region in sorted(participants):
        grants.extend(_own_grants(region, names))
        topics.append(WantedTopic(names.inbox(region), False, f"{region}'s inbox"))
        topics.append(WantedTopic(names.dlq(region), False, f"{region}'s dead letters"))
        partner_reasons = _partner_reasons(region, in_force, members, catalogue, on)
        for partner, reasons in sorted(partner_reasons.items()):
            acl = _acl(region, ResourceType.TOPIC, names.inbox(partner), Operation.WRITE)
            grants.append(Grant(acl, tuple(f"to {partner}: {r}" for r in reasons)))
    if participants:
        topics.append(WantedTopic(names.schemas, True, "the writer schemas of every region"))
        topics.append(WantedTopic(names.manifest, True, "the signed federation manifest"))

    principals = tuple(
        WantedPrincipal(region, region, principal_of(region), tuple(agreements))
        for region, agreements in sorted(participants.items())
    )
    return DesiredAccess(
        on=on,
        prefix=names.prefix,
        principals=principals,
        topics=tuple(topics),
        grants=tuple(sorted(grants, key=lambda g: g.acl)),
        region_codes=frozenset(catalogue.regions),
    )


def _members(agreement: Agreement, region_codes: Iterable[str]) -> frozenset[str]:
    return frozenset(region_codes) if agreement.national else agreement.members


def _own_grants(region: str, names: TopicNames) -> list[Grant]:
    """What a region needs on its own resources and on the schema log, whatever its partners."""
    topic, group = ResourceType.TOPIC, ResourceType.GROUP
    read, write = Operation.READ, Operation.WRITE
    own = [
        (topic, names.inbox(region), read, "its consumer reads the events addressed to it"),
        (group, names.group(region), read, "its consumers share their positions as one group"),
        (topic, names.dlq(region), write, "its consumer dead-letters what it cannot apply"),
        (topic, names.dlq(region), read, "its operators read and redrive its dead letters"),
        (topic, names.schemas, read, "its consumer looks writer schemas up by fingerprint"),
        (topic, names.schemas, write, "its relay publishes its writer schema before using it"),
        (topic, names.manifest, read, "its processes trust the keys the signed manifest lists"),
    ]
    return [
        Grant(_acl(region, kind, name, operation), (f"rule: {why}",))
        for kind, name, operation, why in own
    ]


def _partner_reasons(
    region: str,
    in_force: list[Agreement],
    members: dict[str, frozenset[str]],
    catalogue: Catalogue,
    on: date,
) -> dict[str, list[str]]:
    """For each region ``region`` shares items with, the agreements and workflows why."""
    reasons: dict[str, list[str]] = defaultdict(list)
    shared: dict[str, set[str]] = defaultdict(set)
    for agreement in in_force:
        if region not in members[agreement.id]:
            continue
        count = len(agreement.items)
        scope = "national list" if agreement.national else "agreement"
        for partner in sorted(members[agreement.id] - {region}):
            reasons[partner].append(f"{scope} {agreement.id} shares {count} item(s)")
            shared[partner].update(agreement.items)
    workflows = sorted(
        (w for w in catalogue.workflows.values() if w.in_force(on)), key=lambda w: w.id
    )
    for partner, items in shared.items():
        for workflow in workflows:
            if workflow.item_code in items:
                reasons[partner].append(
                    f"workflow {workflow.id} sends its steps and answers to the other region"
                )
    return reasons


def _acl(region: str, kind: ResourceType, name: str, operation: Operation) -> Acl:
    return Acl(principal_of(region), kind, name, PatternType.LITERAL, operation)
