"""A backup keeps everything a consumer could observe: compared record by record with what a
read_committed consumer reads from the real broker, under every codec."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.storage.verify import verify_backup
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup, read_backup
from tests.kafka_helpers import create_topic, read_all

YEAR_MS = 365 * 24 * 3600 * 1000
LARGE = 900_000  # close to the broker's default max.message.bytes (1 MiB)


async def _tricky_topic(bs: str, topic: str) -> None:
    # Kafka 4 refuses timestamps over an hour ahead unless the topic allows them
    await create_topic(bs, topic, 4, {"message.timestamp.after.max.ms": str(2**63 - 1)})  # partition 3: empty
    producer = AIOKafkaProducer(bootstrap_servers=bs, max_request_size=2 << 20, linger_ms=5)
    await producer.start()
    try:
        sends = [
            dict(key=None, value=b"null key"),
            dict(key=b"", value=b"empty key"),
            dict(key=b"tombstone", value=None),
            dict(key=b"binary", value=bytes(range(256)) * 4),
            dict(key=b"large", value=b"x" * LARGE),
            dict(key=b"headers", value=b"h", headers=[("dup", b"1"), ("dup", b"2"), ("null", None), ("", b"")]),
            dict(key=b"old", value=b"1995", timestamp_ms=800_000_000_000),
            dict(key=b"future", value=b"2050", timestamp_ms=800_000_000_000 + 55 * YEAR_MS),
        ]
        for i, kwargs in enumerate(sends * 3):
            await producer.send(topic, partition=i % 3, **kwargs)  # type: ignore[arg-type]
        for i in range(3000):  # many small batches too
            await producer.send(topic, f"v{i}".encode(), key=f"k{i % 17}".encode(), partition=i % 3)
        await producer.flush()
    finally:
        await producer.stop()


@pytest.mark.parametrize("compression", ["none", "gzip", "snappy", "lz4", "zstd"])
async def test_round_trip_every_codec(kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path,
                                      compression: str) -> None:
    await _tricky_topic(kafka.bootstrap_servers, unique)
    result = await backup(cluster, unique, tmp_path, compression=compression)
    expected = await read_all(kafka.bootstrap_servers, unique)
    assert read_backup(result.path) == expected
    assert result.metrics.messages == sum(map(len, expected.values())) == 3 * 8 + 3000
    assert result.manifest.partitions[3].records == 0 and result.manifest.partitions[3].segments == ()
    assert result.manifest.compression["codec"] == compression
    assert verify_backup(result.path).intact


async def test_empty_topic(cluster: ClusterConfig, kafka: LocalKafka, unique: str, tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    result = await backup(cluster, unique, tmp_path)
    assert result.metrics.messages == 0 and read_backup(result.path) == {0: [], 1: []}
    assert verify_backup(result.path).intact


async def test_log_append_time_topic(cluster: ClusterConfig, kafka: LocalKafka, unique: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1, {"message.timestamp.type": "LogAppendTime"})
    producer = AIOKafkaProducer(bootstrap_servers=bs)
    await producer.start()
    for i in range(50):
        await producer.send(unique, f"{i}".encode(), timestamp_ms=1_000)  # the broker overrides it
    await producer.stop()
    result = await backup(cluster, unique, tmp_path)
    stored = read_backup(result.path)[0]
    assert stored == (await read_all(bs, unique))[0]
    assert all(r[2] == 1 and r[1] > 1_000 for r in stored)  # LogAppendTime kept, not CreateTime 1000
    assert result.manifest.topic["configs"]["message.timestamp.type"] == "LogAppendTime"


async def test_aborted_transactions_are_left_out(cluster: ClusterConfig, kafka: LocalKafka, unique: str,
                                                 tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    producer = AIOKafkaProducer(bootstrap_servers=bs, transactional_id=f"{unique}-tx")
    await producer.start()
    try:
        for round_, commit in enumerate([True, False, True, False, True]):
            await producer.begin_transaction()
            for i in range(20):
                await producer.send(unique, f"{round_}-{i}-{'c' if commit else 'a'}".encode(), partition=i % 2)
            await (producer.commit_transaction() if commit else producer.abort_transaction())
    finally:
        await producer.stop()
    result = await backup(cluster, unique, tmp_path)
    stored = read_backup(result.path)
    assert stored == await read_all(bs, unique)
    values = [r[4] for records in stored.values() for r in records]
    assert len(values) == 60 and all(v is not None and v.endswith(b"c") for v in values)
    everything = await read_all(bs, unique, read_committed=False)
    assert sum(map(len, everything.values())) == 100  # the aborted records really are in the log
    part = result.manifest.partitions[0]
    assert part.gap_count >= 2  # the aborted batches and the transaction markers leave offsets unused


async def test_start_offset_above_zero(cluster: ClusterConfig, kafka: LocalKafka, unique: str,
                                                          tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1)
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=0)
    await producer.start()
    for i in range(100):
        await producer.send_and_wait(unique, f"{i}".encode(), key=b"k")
    await producer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=bs)
    await admin.start()
    try:
        from aiokafka import TopicPartition as TP

        await admin.delete_records({TP(unique, 0): RecordsToDelete(before_offset=37)})
    finally:
        await admin.close()
    result = await backup(cluster, unique, tmp_path)
    part = result.manifest.partitions[0]
    stored = read_backup(result.path)[0]
    assert (part.log_start_offset, part.start_offset, part.first_offset) == (37, 37, 37)
    assert [r[0] for r in stored] == list(range(37, 100)) and part.records == 63
    assert stored == (await read_all(bs, unique))[0]


async def test_backup_finishes_on_a_live_topic(cluster: ClusterConfig, kafka: LocalKafka, unique: str,
                                               tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=2)
    await producer.start()
    for i in range(2000):
        await producer.send(unique, f"{i}".encode(), partition=i % 2)
    await producer.flush()
    stop = asyncio.Event()

    async def keep_producing() -> None:
        i = 0
        while not stop.is_set():
            await producer.send_and_wait(unique, f"live-{i}".encode(), partition=i % 2)
            i += 1

    live = asyncio.create_task(keep_producing())
    try:
        result = await asyncio.wait_for(backup(cluster, unique, tmp_path), timeout=60)
    finally:
        stop.set()
        await live
        await producer.stop()
    for part in result.manifest.partitions:
        assert part.records == part.end_offset - part.start_offset  # exactly up to the snapshot's end
    assert result.metrics.messages >= 2000


async def test_compacted_topic_with_gaps(cluster: ClusterConfig, kafka: LocalKafka, unique: str,
                                         tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1, {"cleanup.policy": "compact", "segment.ms": "100",
                                       "min.cleanable.dirty.ratio": "0.001", "min.compaction.lag.ms": "0",
                                       "delete.retention.ms": "0"})
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=0)
    await producer.start()
    try:
        for i in range(200):
            await producer.send_and_wait(unique, f"{i}".encode(), key=f"k{i % 5}".encode())
        compacted: dict[int, list] = {}
        for _ in range(120):  # the cleaner runs every 250 ms in the test broker; a new record rolls the segment
            await asyncio.sleep(0.25)
            await producer.send_and_wait(unique, b"roll", key=b"roll")
            compacted = await read_all(bs, unique)
            if len(compacted[0]) < 100:
                break
    finally:
        await producer.stop()
    assert len(compacted[0]) < 100, "the log cleaner did not compact the topic in time"
    for _ in range(60):  # no more writes: wait until the cleaner has nothing left to do
        await asyncio.sleep(0.5)
        previous, compacted = compacted, await read_all(bs, unique)
        if previous == compacted:
            break
    result = await backup(cluster, unique, tmp_path)
    stored = read_backup(result.path)[0]
    assert stored == (await read_all(bs, unique))[0]
    part = result.manifest.partitions[0]
    missing = set(range(part.start_offset, part.end_offset)) - {r[0] for r in stored}
    assert missing, "compaction left no hole in the offsets"
    assert missing == {o for start, end in part.gaps for o in range(start, end)}  # every hole is accounted for
    assert part.records == len(stored) and part.gap_count == len(part.gaps)
