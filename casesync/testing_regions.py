"""Regions for tests of regional systems: a fresh migrated database, shared topics, real parts.

Plain code (no pytest), so a test suite can use it with or without the fixtures in
``casesync.testing``. Every region of one ``RegionFactory`` shares a topic prefix of its own, so
partners see each other's events and no other test's; relay and consumer are the real ones,
wired as ``casesync relay`` and ``casesync consume`` wire them.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from casesync.access.provisioning import provision_topics
from casesync.adapters.postgres import connect, query_rows, transaction
from casesync.adapters.topics import TopicNames, ensure_topics
from casesync.domain.events import CaseEvent
from casesync.domain.loading import shipped_catalogue
from casesync.domain.workdays import china_date
from casesync.ops.applying import prepare_region_database
from casesync.ops.replay import ApplyStats
from casesync.ops.replay import apply as apply_recording
from casesync.settings import KafkaAccess, Settings, TopicSettings
from casesync.testing_trust import TestTrust
from consumers import digest
from consumers.compose import ConsumerOptions, build_consumer, plan_consumer, prepare
from consumers.runner import ConsumerStats
from producers.app import build_recorder, build_relay, record_committed
from producers.changes import CaseChange
from producers.recorder import CaseRecorder
from producers.simulation import Simulation


@dataclass
class TestRegion:
    """One region: its database, settings (this test's topics) and the recorder of its cases."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    code: str
    settings: Settings
    recorder: CaseRecorder

    @property
    def url(self) -> str:
        """The region database's URL."""
        return self.settings.region_database_url(self.code)

    @property
    def inbox(self) -> str:
        """The inbox topic this region reads: every event addressed to it."""
        return TopicNames(self.settings.topic_prefix).inbox(self.code)

    def record(self, changes: Sequence[CaseChange]) -> list[CaseEvent]:
        """Record own changes in one transaction (cases, history, outbox)."""
        return record_committed(self.recorder, self.url, changes)

    def simulate(self, cases: int, seed: int = 1, partners: Sequence[str] = ()) -> int:
        """Record ``cases`` realistic lifecycles (as ``casesync simulate``); return the events."""
        simulation = Simulation(shipped_catalogue(), self.code, seed)
        planned = simulation.plan(cases, datetime.now(UTC).date(), list(partners) or None)
        return len(self.record(list(simulation.changes(planned, datetime))))

    def relay(self, until_idle: float = 0.5) -> int:
        """Publish the outbox with the real relay until it is idle; return how many."""
        return build_relay(self.settings, self.code).run(until_idle=until_idle).published

    def consume(self, until_idle: float = 2.0) -> ConsumerStats:
        """Mirror the events in this region's inbox with the real consumer until idle."""
        options = ConsumerOptions(region=self.code)
        plan = plan_consumer(self.settings, options)
        prepare(self.settings, plan)
        consumer = build_consumer(self.settings, options, plan)
        return consumer.run(threading.Event(), until_idle=until_idle)

    def spawn(self, command: str, log: Path, **env: str) -> subprocess.Popen[bytes]:
        """``casesync <command> --region <code>`` as a process of its own on this region's
        database and topics, logging JSON lines to ``log``; ``env`` adds settings."""
        settings = {
            **self.settings.kafka.environment(),
            **self._trust_environment(),
            "CASESYNC_DATABASE_URL": self.url,
            "CASESYNC_TOPIC_PREFIX": self.settings.topic_prefix,
            "CASESYNC_TOPIC_REPLICATION_FACTOR": str(self.settings.topics.replication_factor),
            "CASESYNC_TOPIC_MIN_INSYNC_REPLICAS": str(self.settings.topics.min_insync_replicas),
        }
        with log.open("ab") as sink:
            return subprocess.Popen(
                [sys.executable, "-m", "casesync", "--log-json", command, "--region", self.code],
                env={**os.environ, **settings, **env},
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=sink,
            )  # fmt: skip

    def _trust_environment(self) -> dict[str, str]:
        settings = self.settings
        if not settings.signing:
            return {"CASESYNC_SIGNING": "off"}
        return {
            "CASESYNC_SIGNING": "on",
            "CASESYNC_SIGNING_KEY_DIR": str(settings.signing_key_dir),
            "CASESYNC_TRUST_ROOT": settings.trust_root or "",
            "CASESYNC_TRUST_MANIFEST": str(settings.trust_manifest_file or ""),
        }

    def replay(self, recording: Path, *, verify: bool = True) -> ApplyStats:
        """Apply a recording (``casesync replay apply``) to this region's database;
        ``verify=False`` for a recording made before its regions signed (as
        ``CASESYNC_SIGNING=off`` would: said in the log)."""
        settings = self.settings if verify else dataclasses.replace(self.settings, signing=False)
        return apply_recording(settings, recording, self.code)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one query on the region's database."""
        return query_rows(self.url, statement, params)

    def owned_digest(self) -> tuple[str, int]:
        """``casesync digest --owned``: (sha256 hex, cases)."""
        return self._digest(digest.owned)

    def mirror_digest(self, source: str) -> tuple[str, int]:
        """``casesync digest --mirror-of source``: (sha256 hex, cases)."""
        return self._digest(lambda cur: digest.mirror_of(cur, source))

    def _digest(self, read: Callable[[Any], tuple[str, int]]) -> tuple[str, int]:
        conn = connect(self.url)
        try:
            with transaction(conn) as cur:
                return read(cur)
        finally:
            conn.close()


@dataclass
class RegionFactory:
    """Makes regions on given services; one topic prefix for all regions it makes."""

    kafka: KafkaAccess
    make_database: Callable[[str], str]
    topic_prefix: str
    trust: TestTrust | None = None  # None: the regions run unsigned (CASESYNC_SIGNING=off)
    regions: dict[str, TestRegion] = field(default_factory=dict)
    topics: TopicSettings = field(default_factory=TopicSettings)  # how topics are replicated

    def __call__(self, code: str) -> TestRegion:
        """Region ``code`` with a fresh migrated database (made once per code). The first call
        creates the topics provisioning would (``region init``): every inbox and dead-letter
        topic the agreements in force imply, so national items reach every region too."""
        if code not in self.regions:
            catalogue = shipped_catalogue()
            catalogue.region(code)  # an unknown code fails here, clearly
            url = self.make_database(f"r{code}")
            prepare_region_database(url)
            settings = Settings(
                kafka_bootstrap=self.kafka.bootstrap, kafka_security=self.kafka.security,
                database_url=url, topics=self.topics, topic_prefix=self.topic_prefix,
                kafka_overridden=True, database_overridden=True, signing=False,
            )  # fmt: skip
            if self.trust is not None:
                settings = self.trust.apply_to(settings)
            if not self.regions:
                provision_topics(
                    self.kafka, self.topics, catalogue,
                    TopicNames(self.topic_prefix), china_date(datetime.now(UTC)),
                )  # fmt: skip
            names = TopicNames(self.topic_prefix)
            ensure_topics(self.kafka, self.topics, [names.inbox(code), names.dlq(code)])
            self.regions[code] = TestRegion(code, settings, build_recorder(code))
        return self.regions[code]
