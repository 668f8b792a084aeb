"""The topic changing under a running backup: retention deleting its start, the topic deleted and
created again, partitions added. Each is detected, reported and recorded, never silently mixed."""

from __future__ import annotations

import asyncio
import itertools
import os
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka import TopicPartition as TP
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, RecordsToDelete

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.changes import TopicRecreated
from kafka_sre_tui.engine.backup.partition import STATE_FILE, PartitionState
from kafka_sre_tui.engine.backup.run import resume_backup
from kafka_sre_tui.engine.storage.manifest import MANIFEST, PartitionManifest
from kafka_sre_tui.engine.storage.reader import iter_records
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup, read_backup
from tests.kafka_helpers import create_topic, produce, read_all, wait_for

RECORDS, SLOW = 2500, 0.3  # about 2.5 MB at 0.3 MB/s: the backup runs for seconds


async def _load(bootstrap: str, topic: str) -> None:
    await create_topic(bootstrap, topic, 1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for i in range(RECORDS):
            await producer.send(topic, os.urandom(1000), key=str(i).encode(), partition=0)
    finally:
        await producer.stop()


async def _admin(bootstrap: str) -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    return admin


def _slow_backup(cluster: ClusterConfig, topic: str, base: Path) -> asyncio.Task:  # type: ignore[type-arg]
    return asyncio.create_task(backup(cluster, topic, base, rate_limit_mb_s=SLOW, checkpoint_seconds=0.2,
                                      compression="none"))


async def _first_segment(base: Path) -> None:
    await wait_for(lambda: any(base.glob("*/partitions/0/*.kseg")), "the backup's first durable segment", 60)


async def test_retention_deleting_the_start_is_a_recorded_gap(kafka: LocalKafka, cluster: ClusterConfig,
                                                              unique: str, tmp_path: Path) -> None:
    bootstrap = kafka.bootstrap_servers
    await _load(bootstrap, unique)
    job = _slow_backup(cluster, unique, tmp_path)
    await _first_segment(tmp_path)
    admin = await _admin(bootstrap)
    try:
        await admin.delete_records({TP(unique, 0): RecordsToDelete(before_offset=2000)})
    finally:
        await admin.close()
    result = await job
    stored = read_backup(result.path)[0]
    offsets = [r[0] for r in stored]
    part = result.manifest.partitions[0]
    assert offsets == sorted(set(offsets)) and offsets[-1] == RECORDS - 1  # none twice, to the end
    assert stored[-500:] == (await read_all(bootstrap, unique))[0]  # what is left on the broker, exactly
    gap_start = next(o for o, n in itertools.pairwise(offsets) if n != o + 1) + 1
    assert list(part.gaps) == [(gap_start, 2000)] and offsets == [*range(gap_start), *range(2000, RECORDS)]


async def test_topic_recreated_during_a_backup_stops_it_unmixed(kafka: LocalKafka, cluster: ClusterConfig,
                                                                unique: str, tmp_path: Path) -> None:
    bootstrap = kafka.bootstrap_servers
    await _load(bootstrap, unique)
    old = (await read_all(bootstrap, unique))[0]
    job = _slow_backup(cluster, unique, tmp_path)
    await _first_segment(tmp_path)
    admin = await _admin(bootstrap)
    try:
        await admin.delete_topics([unique])
    finally:
        await admin.close()
    for _ in range(100):  # the name is free again once the deletion has gone through
        try:
            await create_topic(bootstrap, unique, 1)
            break
        except Exception:
            await asyncio.sleep(0.2)
    await produce(bootstrap, unique, {0: 3000})
    with pytest.raises(TopicRecreated) as stopped:
        await job
    message = str(stopped.value)
    assert "\n" not in message and f"topic '{unique}' was deleted" in message and "start a new backup" in message
    [folder] = list(tmp_path.iterdir())
    assert not (folder / MANIFEST).exists()
    durable = read_backup_durable(folder)
    assert durable and durable == old[:len(durable)]  # only the old topic's records, in order
    with pytest.raises(TopicRecreated):
        await resume_backup(cluster, tmp_path, folder.name)


def read_backup_durable(folder: Path) -> list[tuple[object, ...]]:
    """The records an incomplete backup made durable: its checkpointed segments."""
    state = PartitionState.load(folder / "partitions" / "0" / STATE_FILE)
    part = PartitionManifest(0, state.start_offset, state.next_offset, 0, state.records, state.raw_bytes,
                             state.stored_bytes, state.first_offset, state.last_offset, state.first_timestamp,
                             state.last_timestamp, (), 0, tuple(state.segments))
    return [(r.offset, r.timestamp, r.timestamp_type, r.key, r.value, r.headers) for r in iter_records(folder, part)]


async def test_partitions_added_during_a_backup_are_recorded(kafka: LocalKafka, cluster: ClusterConfig,
                                                             unique: str, tmp_path: Path) -> None:
    bootstrap = kafka.bootstrap_servers
    await _load(bootstrap, unique)
    source = await read_all(bootstrap, unique)
    job = _slow_backup(cluster, unique, tmp_path)
    await _first_segment(tmp_path)
    admin = await _admin(bootstrap)
    try:
        await admin.create_partitions({unique: NewPartitions(total_count=3)})
    finally:
        await admin.close()
    await produce(bootstrap, unique, {1: 5, 2: 5})
    result = await job
    assert result.manifest.extra == {"partitions_added_during_backup": [1, 2]}
    assert read_backup(result.path) == source  # partition 0 exactly; the new ones are not mixed in
