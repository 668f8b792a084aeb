"""Real Apache Kafka for the tests: started once per session by the project's own launcher."""

from __future__ import annotations

import itertools
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.audit import ENV_VAR as AUDIT_ENV_VAR
from kafka_sre_tui.localkafka import KAFKA_VERSION, LocalKafka, LocalKafkaCluster, LocalKafkaError
from tests.java_clients import share_group_properties
from tests.object_servers import Azurite, S3Proxy, azure_environment, s3_environment

_names = itertools.count()

# Many tests write records stamped long ago (1970, 2023) to check that timestamps survive. On the
# shared brokers Kafka's retention check (30 s after start, then every 5 minutes) deleted such a
# topic's records whenever it fell inside a test, failing one test in a few runs ("0 batches", "timed
# out waiting for the records"). The check waits a day there, first and between runs; retention.ms keeps its default, so
# restore's preflight still warns that a created topic would drop old records. Tests of retention
# start their own broker.
_DAY_MS = str(24 * 3600 * 1000)
KEEP_OLD_RECORDS = {"log.initial.task.delay.ms": _DAY_MS, "log.retention.check.interval.ms": _DAY_MS}


# A shell without job control starts background commands with SIGINT ignored, and children inherit
# that: a suite run as `make test &` (or by a CI runner that does so) would send Ctrl-C to CLI children
# that can never receive it. Tests that interrupt a CLI need SIGINT to mean what it does in a terminal.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _start(**kwargs: object) -> LocalKafka:
    kafka = LocalKafka(**kwargs)  # type: ignore[arg-type]
    try:
        return kafka.start()
    except LocalKafkaError as exc:  # a broken broker fails the tests, it never skips them
        pytest.fail(f"local Kafka did not start: {exc}", pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def audit_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Write operations in tests are audited into a private file, never the user's state directory."""
    path = tmp_path_factory.mktemp("audit") / "audit.log"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(AUDIT_ENV_VAR, str(path))
        yield path


@pytest.fixture(scope="session", autouse=True)
def _log_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Jobs run by the tests log under a temporary XDG state dir, not the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        yield


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[LocalKafkaCluster]:
    """Three KRaft nodes (each a broker and a controller voter), started by the first test that asks.
    Tests that stop a node must start it again before they end (``try/finally``)."""
    # a node stopped by a test comes back as a follower everywhere: let the controller give it back its
    # preferred leaderships (and group coordinators) within seconds, not the default 5 minutes
    cluster = LocalKafkaCluster(3, broker_properties={"leader.imbalance.check.interval.seconds": "5",
                                                      **KEEP_OLD_RECORDS})
    try:
        cluster.start()
    except LocalKafkaError as exc:
        pytest.fail(f"local Kafka cluster did not start: {exc}", pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def kafka() -> Iterator[LocalKafka]:
    broker = _start(broker_properties={"log.cleaner.backoff.ms": "250",  # compaction within a test's patience
                                       **KEEP_OLD_RECORDS,
                                       **share_group_properties(KAFKA_VERSION)})
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def kafka2() -> Iterator[LocalKafka]:
    """A second, independent cluster (cross-cluster tests)."""
    broker = _start(broker_properties=KEEP_OLD_RECORDS)
    yield broker
    broker.stop()


@pytest.fixture
def cluster(kafka: LocalKafka) -> ClusterConfig:
    return ClusterConfig(name="test", bootstrap_servers=(kafka.bootstrap_servers,), request_timeout_seconds=15)


@pytest.fixture
def unique() -> str:
    """A fresh name for a topic or group, so tests sharing a broker never see each other's data."""
    return f"t{next(_names)}"


@pytest.fixture(scope="session")
def s3proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Proxy]:
    """A real S3 server (s3proxy, filesystem provider) on 127.0.0.1."""
    server = S3Proxy(tmp_path_factory.mktemp("s3proxy"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3proxy: S3Proxy, unique: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on :func:`s3proxy`, with the test credentials in the standard AWS_* variables."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in s3_environment().items():
        monkeypatch.setenv(key, value)
    bucket = f"bucket-{unique}"
    s3proxy.create_bucket(bucket)
    return bucket


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """A real Azure Blob server (Azurite) on 127.0.0.1."""
    server = Azurite(tmp_path_factory.mktemp("azurite"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def az_container(azurite: Azurite, unique: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh container on :func:`azurite`, with its account key in AZURE_STORAGE_* as Azure's tools expect."""
    for key, value in azure_environment().items():
        monkeypatch.setenv(key, value)
    container = f"container-{unique}"
    azurite.create_container(container)
    return container
