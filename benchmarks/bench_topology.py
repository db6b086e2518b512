"""The national topology on the local cluster: N regions' inboxes, dead-letter topics, SCRAM users
and ACLs, provisioned the way ``casesync access apply`` does it, then measured.

    .venv/bin/python benchmarks/bench_topology.py --regions 3189 [--partitions 1] [--json FILE]

Regions are the first N mainland prefecture- and county-level divisions of GB/T 2260
(``casesync.domain.divisions``; 3,189 in all). Each prefecture and its counties form one
agreement over one item, so a region's partners are the other members of its prefecture: the
grants follow ``casesync.access.desired_access`` exactly, and ``ClusterAccess`` applies them
(users, topics one by one, ACLs in one call, each step read back). Measured:
  1. provisioning time per step, topics, users and ACLs on the cluster;
  2. every node's JVM heap in use (``jcmd GC.heap_info``) and resident memory, before and after;
  3. metadata for one region's fresh client (its own credentials): connect and find its inbox;
  4. produce (acks=all, idempotent) from one region into a partner's inbox and consume it as the
     partner, ``--records`` 430-byte records: run with a handful of regions for the baseline.
Everything it made is removed at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from _support import machine, write_json
from kafka.admin import (
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePatternFilter,
    ResourceType,
    ScramMechanism,
    UserScramCredentialDeletion,
)

from casesync.access.credentials import CredentialsFolder
from casesync.access.desired import desired_access
from casesync.access.kafka_applier import ClusterAccess
from casesync.access.model import principal_of
from casesync.access.plan import plan_access
from casesync.adapters.kafka_clients import new_admin, new_consumer, new_producer
from casesync.adapters.topics import TopicNames
from casesync.domain.agreements import Agreement
from casesync.domain.catalogue import Catalogue
from casesync.domain.divisions import Division, mainland_regions
from casesync.domain.loading import shipped_catalogue
from casesync.domain.regions import Region
from casesync.settings import KafkaAccess, KafkaSecurity, Settings, TopicSettings
from infra.kafka.launcher import KafkaLauncher

RECORD = b"x" * 430


def topology(regions: list[Division]) -> Catalogue:
    """A catalogue of ``regions``: one agreement per prefecture over one shipped item."""
    item = sorted(shipped_catalogue().items.values(), key=lambda i: i.code)[0]
    by_prefecture: dict[str, set[str]] = defaultdict(set)
    for region in regions:
        by_prefecture[region.prefecture].add(region.code)
    agreements = [
        Agreement(f"pref-{code}", f"prefecture {code}", False, frozenset(members),
                  frozenset({item.code}), date(2020, 1, 1))
        for code, members in sorted(by_prefecture.items())
    ]  # fmt: skip
    return Catalogue(
        [Region(d.code, d.name, d.name, d.level, True) for d in regions],
        [item], agreements, [], {}, {},
    )  # fmt: skip


def node_memory(cluster: KafkaLauncher) -> list[dict[str, Any]]:
    """Per node: heap in use and committed (MiB, from jcmd) and resident memory (MiB)."""
    rows = []
    for node_id, pid in cluster.running_pids().items():
        if pid is None:
            continue
        status = Path(f"/proc/{pid}/status").read_text()
        rss_kib = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        heap = subprocess.run(["jcmd", str(pid), "GC.heap_info"], capture_output=True,
                              text=True, check=False).stdout  # fmt: skip
        found = re.search(r"total (\d+)K, used (\d+)K", heap)
        rows.append({
            "node": node_id, "rss_mib": round(rss_kib / 1024),
            "heap_used_mib": round(int(found.group(2)) / 1024) if found else None,
            "heap_committed_mib": round(int(found.group(1)) / 1024) if found else None,
        })  # fmt: skip
    return rows


def region_access(
    admin_access: KafkaAccess, credentials: CredentialsFolder, user: str
) -> KafkaAccess:
    """How region ``user``'s processes reach the cluster: its own SCRAM user and password."""
    lines = dict(
        line.split("=", 1) for line in credentials.path_for(user).read_text().splitlines() if line
    )
    security = KafkaSecurity(ca_file=admin_access.security.ca_file, username=lines["username"],
                             password=lines["password"])  # fmt: skip
    return KafkaAccess(admin_access.bootstrap, security)


def metadata_time(access: KafkaAccess, inbox: str) -> dict[str, float]:
    """A fresh client of one region: seconds to connect, then to learn its inbox's partitions."""
    began = time.monotonic()
    consumer = new_consumer(access, request_timeout_ms=30_000)
    connected = time.monotonic()
    try:
        partitions = None
        while not partitions and time.monotonic() - connected < 30:
            partitions = consumer.partitions_for_topic(inbox)
        found = time.monotonic()
        visible = len(consumer.topics())
        listed = time.monotonic()
    finally:
        consumer.close()
    return {
        "connect_s": round(connected - began, 3), "inbox_metadata_s": round(found - connected, 3),
        "list_topics_s": round(listed - found, 3), "topics_visible": visible,
    }  # fmt: skip


def exchange_rates(sender: KafkaAccess, receiver: KafkaAccess, inbox: str, group: str,
                   records: int) -> dict[str, float]:  # fmt: skip
    """Produce ``records`` into the partner's inbox as the sender, then consume them as the
    partner; events per second of each, including the first write's wait for its leader."""
    producer = new_producer(sender, acks="all", enable_idempotence=True, linger_ms=5)
    began = time.monotonic()
    for n in range(records):
        producer.send(inbox, key=str(n % 500).encode(), value=RECORD)
    producer.flush(timeout=300)
    produced = time.monotonic() - began
    producer.close()
    consumer = new_consumer(receiver, inbox, group_id=group, auto_offset_reset="earliest",
                            enable_auto_commit=False)  # fmt: skip
    began = time.monotonic()
    seen = 0
    while seen < records and time.monotonic() - began < 300:
        for batch in consumer.poll(timeout_ms=1000, max_records=5000).values():
            seen += len(batch)
    consumed = time.monotonic() - began
    consumer.close()
    return {"records": records, "produce_per_s": round(records / produced),
            "consume_per_s": round(seen / consumed), "consumed": seen}  # fmt: skip


def clean_up(admin_access: KafkaAccess, prefix: str, users: list[str]) -> None:
    """Delete the topics, ACLs and users this run made (a few hundred per request: thousands
    in one request time out on the controller)."""
    admin = new_admin(admin_access, request_timeout_ms=120_000)
    try:
        doomed = [topic for topic in admin.list_topics() if topic.startswith(prefix)]
        for start in range(0, len(doomed), 500):
            admin.delete_topics(doomed[start : start + 500], timeout_ms=120_000)
        filters = [
            ACLFilter(principal_of(user), None, ACLOperation.ANY, ACLPermissionType.ANY,
                      ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY))
            for user in users
        ]  # fmt: skip
        for start in range(0, len(filters), 500):
            admin.delete_acls(filters[start : start + 500])
        deletions = [UserScramCredentialDeletion(u, ScramMechanism.SCRAM_SHA_512) for u in users]
        for start in range(0, len(deletions), 500):
            admin.alter_user_scram_credentials(deletions[start : start + 500])
    finally:
        admin.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--regions", type=int, default=len(mainland_regions()))
    parser.add_argument("--partitions", type=int, default=1, help="per inbox and DLQ topic")
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="leave topics, users and ACLs")
    parser.add_argument("--json")
    args = parser.parse_args()
    settings = Settings.from_env()
    cluster = KafkaLauncher()
    access = settings.kafka
    regions = list(mainland_regions()[: args.regions])
    names = TopicNames(f"topo.{uuid.uuid4().hex[:6]}.")
    today = datetime.now(UTC).date()
    desired = desired_access(topology(regions), names, today)
    topics = TopicSettings(partitions=args.partitions,
                           replication_factor=settings.topics.replication_factor,
                           min_insync_replicas=settings.topics.min_insync_replicas)  # fmt: skip
    result: dict[str, Any] = {
        "regions": len(regions), "nodes": cluster.nodes, "partitions_per_topic": args.partitions,
        "replication_factor": topics.replication_factor, "machine": machine(),
        "levels": {lv: sum(1 for r in regions if r.level == lv) for lv in ("prefecture", "county")},
        "memory_before": node_memory(cluster),
    }  # fmt: skip
    print(f"{len(regions)} regions, {len(desired.topics)} topics, {len(desired.grants)} ACLs, "
          f"{len(desired.principals)} users on {access} ...", file=sys.stderr)  # fmt: skip
    folder = CredentialsFolder(Path(tempfile.mkdtemp(prefix="topology-")))
    admin = new_admin(access, request_timeout_ms=300_000)
    try:
        applier = ClusterAccess(admin, access.bootstrap, topics, folder, visible_within_s=600)
        began = time.monotonic()
        plan = plan_access(desired, applier.read_state())
        planned = time.monotonic()
        applied = applier.apply(plan)
        done = time.monotonic()
    finally:
        admin.close()
    result["provisioning"] = {
        "plan_s": round(planned - began, 1), "apply_s": round(done - planned, 1),
        "users": len(applied.principals_created), "topics": len(applied.topics_created),
        "acls": len(applied.acls_granted),
        "partitions": len(applied.topics_created) * args.partitions,
        "replicas": len(applied.topics_created) * args.partitions * topics.replication_factor,
    }  # fmt: skip
    print(f"  provisioned in {done - planned:.0f} s", file=sys.stderr)
    time.sleep(10)  # let leaders settle before measuring
    result["memory_after"] = node_memory(cluster)
    first = regions[0].code
    partner = next(r.code for r in regions[1:] if r.prefecture == regions[0].prefecture)
    sender = region_access(access, folder, first)
    receiver = region_access(access, folder, partner)
    result["metadata"] = metadata_time(receiver, names.inbox(partner))
    result["exchange"] = exchange_rates(sender, receiver, names.inbox(partner),
                                        names.group(partner), args.records)  # fmt: skip
    print(f"  {result['metadata']}\n  {result['exchange']}", file=sys.stderr)
    if not args.keep:
        began = time.monotonic()
        clean_up(access, names.prefix, [r.code for r in regions])
        result["cleanup_s"] = round(time.monotonic() - began, 1)
    write_json(args.json, result)
    for row in result["memory_after"]:
        used, rss = row["heap_used_mib"], row["rss_mib"]
        print(f"  node {row['node']}: heap {used} MiB used, RSS {rss} MiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("CASESYNC_KAFKA_NODES", "3")
    sys.exit(main())
