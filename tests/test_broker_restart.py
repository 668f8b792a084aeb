"""A broker restarted in the middle of a backup, a restore and a migration: each job waits for it and
completes with every record exactly once; a broker away longer than retry_seconds stops the job
resumable, with the error, and the resume completes it."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.plan import BackupRequest
from kafka_sre_tui.engine.backup.run import backup_topic, resume_backup
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.jobs import Retrying
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup, read_backup
from tests.conftest import _start
from tests.kafka_helpers import read_all, wait_for
from tests.migrate_helpers import content
from tests.migrate_helpers import run as migrate
from tests.restore_helpers import restore

PARTITIONS, PER_PARTITION, VALUE_BYTES = 2, 1500, 600  # about 1.8 MB: several seconds at 0.25 MB/s
SLOW = 0.25  # MB/s: every job is still running when the broker goes


@pytest.fixture
def broker() -> Iterator[LocalKafka]:
    """A broker of each test's own: the shared one must not restart under other tests, and a broker
    that has just come back can stay fenced (refusing new topics) for a long while on a loaded machine."""
    kafka = _start()
    yield kafka
    kafka.stop()


def _cluster(kafka: LocalKafka, retry_seconds: float) -> ClusterConfig:
    return ClusterConfig(name="restarting", bootstrap_servers=(kafka.bootstrap_servers,), request_timeout_seconds=5,
                         retry_seconds=retry_seconds)


async def _create(bootstrap: str, topic: str) -> None:
    """Create the topic, again while the broker that just restarted is still fenced (Kafka refuses then)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for _ in range(600):
            try:
                response = await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
            except (KafkaError, TimeoutError):  # the connection of before the restart is closed: reconnect
                await asyncio.sleep(0.2)
                continue
            if all(code in (0, 36) for _name, code, *_rest in response.topic_errors):  # 36: already exists
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"topic {topic} could not be created")
    finally:
        await admin.close()


async def _load(bootstrap: str, topic: str) -> None:
    await _create(bootstrap, topic)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for i in range(PARTITIONS * PER_PARTITION):
            await producer.send(topic, os.urandom(VALUE_BYTES), key=f"k{i}".encode(), partition=i % PARTITIONS,
                                headers=[("n", str(i).encode())])
    finally:
        await producer.stop()


class _Seen:
    """The retries a job reported (what stderr and the dashboard show while it waits)."""

    def __init__(self) -> None:
        self.retries: list[Retrying] = []

    def __call__(self, event: object) -> None:
        if isinstance(event, Retrying):
            self.retries.append(event)


async def test_broker_away_past_retry_seconds_stops_resumable(broker: LocalKafka, tmp_path: Path) -> None:
    cluster = _cluster(broker, retry_seconds=3)
    await _load(broker.bootstrap_servers, "src2")
    source = await read_all(broker.bootstrap_servers, "src2")
    seen = _Seen()
    request = BackupRequest(topic="src2", base_path=tmp_path, rate_limit_mb_s=SLOW, checkpoint_seconds=0.5)
    job = asyncio.create_task(backup_topic(cluster, request, seen))
    await wait_for(lambda: any(tmp_path.glob("*/partitions/*/*.kseg")), "the backup's first segment", 60)
    await asyncio.to_thread(broker.stop, keep_data=True)
    try:
        with pytest.raises(KsreError) as failure:
            await job
    finally:
        await asyncio.to_thread(broker.start)
    [folder] = list(tmp_path.iterdir())
    message = str(failure.value)
    assert "\n" not in message and "gave up after 3 s (retry_seconds)" in message
    assert seen.retries and all(r.gives_up_in_seconds <= 3 for r in seen.retries)  # shown while it waited
    assert f"continue it with kafka-sre-tui backup --resume {folder.name}" in message
    result = await resume_backup(dataclasses.replace(cluster, retry_seconds=60), tmp_path, folder.name)
    assert read_backup(result.path) == source


async def test_backup_restore_and_migration_ride_out_a_broker_restart(broker: LocalKafka, tmp_path: Path) -> None:
    cluster = _cluster(broker, retry_seconds=180)
    await _load(broker.bootstrap_servers, "src")
    source = await read_all(broker.bootstrap_servers, "src")
    first = await backup(cluster, "src", tmp_path)  # what the restore restores

    jobs = {
        "backup": asyncio.create_task(backup(cluster, "src", tmp_path, rate_limit_mb_s=SLOW, checkpoint_seconds=0.5)),
        "restore": asyncio.create_task(restore(cluster, tmp_path, first.backup_id, target_topic="restored",
                                               create_topic=True, rate_limit_mb_s=SLOW, checkpoint_seconds=0.5)),
        "migrate": asyncio.create_task(migrate(cluster, cluster, tmp_path / "m", "src", target_topic="migrated",
                                               create_topic=True, rate_limit_mb_s=SLOW)),
    }
    # the helpers take no emit: watch the target topics and the backup's files instead
    await wait_for(lambda: any(tmp_path.glob("2*-src-*/partitions/*/*.kseg"))
                   and len(list(tmp_path.glob("2*-src-*"))) == 2, "the second backup's first segment", 60)
    assert not any(job.done() for job in jobs.values()), "a job ended before the broker went: slow it down"
    await asyncio.to_thread(broker.restart)
    results = dict(zip(jobs, await asyncio.gather(*jobs.values()), strict=True))

    assert read_backup(results["backup"].path) == source
    for topic in ("restored", "migrated"):
        copied = await read_all(broker.bootstrap_servers, topic)
        assert {p: content(r) for p, r in copied.items()} == {p: content(r) for p, r in source.items()}, topic
