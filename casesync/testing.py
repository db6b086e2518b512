"""pytest plugin for casesync and for the developers of regional systems that use it.

Fixtures give tests the real services, chosen in this order:
  1. ``CASESYNC_KAFKA_BOOTSTRAP`` / ``CASESYNC_DATABASE_URL`` when set (existing services);
  2. testcontainers, when a Docker daemon answers a ping;
  3. the local launchers in ``infra/`` (Kafka from Maven Central, Debian's PostgreSQL).
A test whose infrastructure cannot be had fails with a message that says how to get it: it is
never skipped.

The local broker is secured (SASL_SSL); its clients connect as its admin. Testcontainers' broker
is plaintext, and said so explicitly.

For developers of regional systems: ``casesync_kafka`` (the broker and how to connect to it,
for ``casesync.adapters.kafka_clients``), ``casesync_kafka_bootstrap`` (its address),
``fresh_database_url`` (an empty database), ``casesync_trust`` (signing keys of every region
and the manifest that lists them), ``region_factory`` (a fresh migrated region
database, a topic prefix no other test uses, the region's recorder, relay and consumer: see
``casesync.testing_regions``) and ``replay_into`` (a stream recorded with ``casesync replay
export``, applied to a fresh region).
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pytest

from casesync.adapters.postgres import drop_database, ensure_database, with_database
from casesync.errors import CasesyncError
from casesync.settings import KafkaAccess, KafkaSecurity, Settings, TopicSettings

if TYPE_CHECKING:
    from casesync.testing_regions import RegionFactory, TestRegion
    from casesync.testing_trust import TestTrust

# Tests make topics of six partitions, not the one a region gets by default: ordering, lag,
# rebalances and recordings are then exercised across several partitions of an inbox.
TEST_TOPICS = TopicSettings(partitions=6)

HOW_TO_GET_INFRA = (
    "run `make up` (local Kafka and PostgreSQL, no Docker needed), start Docker for "
    "testcontainers, or point CASESYNC_KAFKA_BOOTSTRAP and CASESYNC_DATABASE_URL "
    "at running services"
)


@dataclass(frozen=True)
class Services:
    """Where the real Kafka and PostgreSQL of this test session are."""

    kafka: KafkaAccess
    database_url: str
    provider: Literal["environment", "testcontainers", "local"]
    topics: TopicSettings = field(default_factory=lambda: TEST_TOPICS)  # as the cluster replicates

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka.bootstrap


def docker_answers() -> bool:
    """True when a Docker daemon answers a ping (a docker binary on PATH proves nothing)."""
    try:
        import docker

        docker.from_env().ping()
    except Exception:  # noqa: BLE001 - any failure means "no usable Docker here"
        return False
    return True


@contextlib.contextmanager
def _testcontainers_services() -> Iterator[Services]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with (
        KafkaContainer().with_kraft() as kafka,
        PostgresContainer("postgres:16", driver=None) as postgres,
    ):
        plaintext = KafkaAccess(kafka.get_bootstrap_server(), KafkaSecurity.plaintext())
        yield Services(plaintext, postgres.get_connection_url(), "testcontainers")


@contextlib.contextmanager
def _local_services() -> Iterator[Services]:
    from infra.kafka.launcher import KafkaLauncher
    from infra.postgres.launcher import PostgresLauncher

    kafka, postgres = KafkaLauncher(), PostgresLauncher()
    started_kafka = kafka.start()
    started_postgres = postgres.start()
    try:
        yield Services(kafka.access, postgres.url, "local", TEST_TOPICS.replicated_for(kafka.nodes))
    finally:
        # Leave running what was running before (e.g. after `make up`); stop what we started.
        if started_kafka:
            kafka.stop()
        if started_postgres:
            postgres.stop()


@contextlib.contextmanager
def provide_services(settings: Settings | None = None) -> Iterator[Services]:
    """Yield real services by the order in the module docstring; raise with how-to otherwise."""
    from casesync.adapters.reachability import check_database, check_kafka

    settings = settings or Settings.from_env()
    if settings.kafka_overridden or settings.database_overridden:
        if not (settings.kafka_overridden and settings.database_overridden):
            raise CasesyncError(
                "set both CASESYNC_KAFKA_BOOTSTRAP and CASESYNC_DATABASE_URL, or neither"
            )
        check_kafka(settings.kafka)
        check_database(settings.database_url)
        topics = dataclasses.replace(settings.topics, partitions=TEST_TOPICS.partitions)
        yield Services(settings.kafka, settings.database_url, "environment", topics)
    elif docker_answers():
        with _testcontainers_services() as services:
            yield services
    else:
        with _local_services() as services:
            yield services


@pytest.fixture(scope="session")
def casesync_services() -> Iterator[Services]:
    """The real Kafka broker and PostgreSQL server for this test session."""
    try:
        context = provide_services()
        services = context.__enter__()
    except Exception as e:  # noqa: BLE001 - turned into a loud failure with a remedy
        pytest.fail(f"casesync test infrastructure unavailable ({e}); {HOW_TO_GET_INFRA}")
    try:
        yield services
    finally:
        context.__exit__(None, None, None)


@pytest.fixture
def database_factory(casesync_services: Services) -> Iterator[Callable[[str], str]]:
    """Create fresh, empty databases on the real server; returns their URLs; drops them after."""
    created: list[str] = []

    def create(label: str = "test") -> str:
        name = f"{label}_{uuid.uuid4().hex[:10]}".lower()
        url = with_database(casesync_services.database_url, name)
        ensure_database(url)
        created.append(name)
        return url

    yield create
    for name in created:
        drop_database(with_database(casesync_services.database_url, name))


@pytest.fixture
def fresh_database_url(database_factory: Callable[[str], str]) -> str:
    """The URL of one fresh, empty database for this test."""
    return database_factory("test")


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """Names (topics, groups) no other test uses: ``prefix.<random>``."""
    return lambda prefix: f"{prefix}.{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def casesync_kafka(casesync_services: Services) -> KafkaAccess:
    """The real broker and how to connect to it (``casesync.adapters.kafka_clients``)."""
    return casesync_services.kafka


@pytest.fixture(scope="session")
def casesync_kafka_bootstrap(casesync_services: Services) -> str:
    """The real broker's bootstrap address (``host:port``)."""
    return casesync_services.kafka_bootstrap


@pytest.fixture(scope="session")
def casesync_trust(tmp_path_factory: pytest.TempPathFactory) -> TestTrust:
    """A root key, a signing key for every region of the shipped catalogue, and a signed
    manifest file listing them (made once per session): relays sign, consumers verify."""
    from casesync.domain.loading import shipped_catalogue
    from casesync.testing_trust import TestTrust

    return TestTrust.create(tmp_path_factory.mktemp("trust"), shipped_catalogue().regions)


@pytest.fixture
def region_factory(
    casesync_services: Services,
    database_factory: Callable[[str], str],
    unique_name: Callable[[str], str],
    casesync_trust: TestTrust,
) -> Iterator[RegionFactory]:
    """``region_factory("330483")``: a region with a fresh migrated database, its recorder, relay
    and consumer; every region of one test shares a topic prefix no other test uses, and its
    topics (every inbox the agreements imply) are deleted after the test."""
    from casesync.adapters.topics import delete_topics_with_prefix
    from casesync.testing_regions import RegionFactory

    prefix = unique_name("t") + "."
    yield RegionFactory(
        casesync_services.kafka, database_factory, prefix, casesync_trust,
        topics=casesync_services.topics,
    )  # fmt: skip
    delete_topics_with_prefix(casesync_services.kafka, prefix)


@pytest.fixture
def replay_into(region_factory: RegionFactory) -> Callable[..., TestRegion]:
    """``replay_into(path, "330483")``: apply a recording to that region (fresh database unless
    the test made it already) with no broker involved; returns the region. Every record is
    verified as the consumer would; ``verify=False`` replays a recording made before signing."""

    def replay(recording: Path | str, code: str, *, verify: bool = True) -> TestRegion:
        region = region_factory(code)
        region.replay(Path(recording), verify=verify)
        return region

    return replay
