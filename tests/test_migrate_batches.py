"""Migration forwards the source's record batches as they are, and maps offsets exactly.

The source's compressed records arrive in the target bit for bit (only the header fields a producer
owns are rewritten), at offsets shifted by what the target already held; a batch that cannot go as it
is (LogAppendTime) is written record by record, with the same records and times; the target topic
becomes LogAppendTime at the cutover's switch step.
"""

from __future__ import annotations

from pathlib import Path

from aiokafka import AIOKafkaProducer

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.inspect.cluster import topic_configs
from kafka_sre_tui.engine.kafka.batches import HEADER_SIZE, BatchHeader, split_batches
from kafka_sre_tui.engine.kafka.fetch import fetch_raw
from kafka_sre_tui.engine.kafka.offsets import READ_UNCOMMITTED
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.migrate.cutover import switch
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import create_topic, produce, read_all
from tests.migrate_helpers import cluster_of, content, request, run

Batch = tuple[BatchHeader, bytes]


async def _batches(cluster: ClusterConfig, topic: str, partition: int) -> list[Batch]:
    """Every batch of a partition as stored by the broker."""
    async with KafkaSession(cluster) as session:
        [node] = session.broker_ids()
        tp, position, found = TopicPartition(topic, partition), 0, []
        while True:
            answer = (await fetch_raw(session, node, {tp: position}, max_bytes=8 << 20, partition_max_bytes=8 << 20,
                                      max_wait_ms=0, isolation_level=READ_UNCOMMITTED))[tp]
            batches = [(h, bytes(v)) for h, v in split_batches(answer.records)]
            if not batches:
                return found
            found += batches
            position = batches[-1][0].next_offset


async def _load(bootstrap: str, topic: str, partitions: int = 2) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type="lz4", linger_ms=50,
                                max_batch_size=16 << 10)
    await producer.start()
    try:
        for i in range(3000):
            headers = [("n", str(i).encode()), ("n", None)] if i % 2 else []
            await producer.send(topic, f"value {i} ".encode() * 20, key=f"k{i % 50}".encode(),
                                partition=i % partitions, headers=headers, timestamp_ms=1_700_000_000_000 + i)
        await producer.flush()
    finally:
        await producer.stop()


async def test_batches_go_as_they_are_and_offsets_map_exactly(kafka: LocalKafka, kafka2: LocalKafka, unique: str,
                                                              tmp_path: Path) -> None:
    source, target = cluster_of(kafka, "a"), cluster_of(kafka2, "b")
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await _load(kafka.bootstrap_servers, unique)
    await create_topic(kafka2.bootstrap_servers, unique, 2)
    await produce(kafka2.bootstrap_servers, unique, {0: 7})  # the target's offsets start 7 later on partition 0

    result = await run(source, target, tmp_path, unique, force=True)

    shift = {0: 7, 1: 0}
    for partition in (0, 1):
        sent = await _batches(source, unique, partition)
        landed = [b for b in await _batches(target, unique, partition) if b[0].base_offset >= shift[partition]]
        assert len(sent) > 10 and len(landed) == len(sent)
        for (src, src_bytes), (dst, dst_bytes) in zip(sent, landed, strict=True):
            assert dst.base_offset == src.base_offset + shift[partition]
            assert (dst.record_count, dst.codec, dst.first_timestamp, dst.max_timestamp) == (
                src.record_count, src.codec, src.first_timestamp, src.max_timestamp)
            assert dst_bytes[HEADER_SIZE:] == src_bytes[HEADER_SIZE:]  # the compressed records, bit for bit
        copied = next(p for p in result.partitions if p.partition == partition)
        assert copied.records == sum(h.record_count for h, _ in sent) == 1500
        assert [tuple(run) for run in copied.offset_map] == [(0, shift[partition], 1500)]
    source_records = await read_all(kafka.bootstrap_servers, unique)
    target_records = await read_all(kafka2.bootstrap_servers, unique)
    assert content(target_records[0][7:]) == content(source_records[0])
    assert content(target_records[1]) == content(source_records[1])


async def test_log_append_time_batches_go_record_by_record(kafka: LocalKafka, kafka2: LocalKafka, unique: str,
                                                           tmp_path: Path) -> None:
    source, target = cluster_of(kafka, "a"), cluster_of(kafka2, "b")
    await create_topic(kafka.bootstrap_servers, unique, 1, {"message.timestamp.type": "LogAppendTime"})
    await _load(kafka.bootstrap_servers, unique, partitions=1)
    result = await run(source, target, tmp_path, unique, create_topic=True)
    source_records = await read_all(kafka.bootstrap_servers, unique)
    target_records = await read_all(kafka2.bootstrap_servers, unique)
    assert result.metrics.records == len(source_records[0]) == 3000
    # the target is created CreateTime: the copies keep the times the source broker appended them
    assert [r[:2] + r[3:] for r in target_records[0]] == [r[:2] + r[3:] for r in source_records[0]]
    assert [tuple(run) for run in result.partitions[0].offset_map] == [(0, 0, 3000)]
    async with KafkaSession(target) as session:
        assert (await topic_configs(session, [unique]))[unique]["message.timestamp.type"] == "CreateTime"
        switched = await switch(source, target, request(tmp_path, unique, create_topic=True))
        assert switched.ok and any("set to message.timestamp.type=LogAppendTime" in c for c in switched.checked)
        assert (await topic_configs(session, [unique]))[unique]["message.timestamp.type"] == "LogAppendTime"
