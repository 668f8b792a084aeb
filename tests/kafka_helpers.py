"""Small real-Kafka helpers for tests: create topics, produce, consume and commit exactly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


async def create_topic(bootstrap: str, name: str, partitions: int, configs: dict[str, str] | None = None,
                       replicas: int = 1) -> None:
    """Create ``name`` and wait until the brokers' metadata shows every partition with a leader: on a
    loaded machine a test that reads metadata at once may not see the topic yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, replicas, topic_configs=configs or {})])
        for _ in range(300):
            [found] = await admin.describe_topics([name])
            leaders = [p["leader"] for p in found.get("partitions", [])]
            if found.get("error_code") == 0 and len(leaders) == partitions and all(x >= 0 for x in leaders):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"topic {name} has no leader for every partition 30 s after its creation")
    finally:
        await admin.close()


async def produce(bootstrap: str, topic: str, per_partition: dict[int, int]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for partition, count in per_partition.items():
            for i in range(count):
                await producer.send(topic, f"{partition}-{i}".encode(), key=str(i).encode(), partition=partition)
        await producer.flush()
    finally:
        await producer.stop()


async def produce_until(bootstrap: str, topic: str, partitions: int, stop: asyncio.Event) -> int:
    """Write numbered records round-robin over ``partitions``, 20 at a time, until ``stop`` is set;
    the number written."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    sent = 0
    try:
        while not stop.is_set():
            for i in range(20):
                await producer.send(topic, f"{sent + i}".encode(), key=f"{i}".encode(),
                                    partition=(sent + i) % partitions)
            sent += 20
            await producer.flush()
            await asyncio.sleep(0.02)
    finally:
        await producer.stop()
    return sent


async def consume_and_commit(bootstrap: str, group: str, topic: str, per_partition: dict[int, int]) -> None:
    """Read exactly ``per_partition[p]`` records of each partition from the start, then commit
    the position reached: the group's committed offsets become exactly those counts."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in per_partition]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        commits = {}
        for tp in tps:
            wanted, seen = per_partition[tp.partition], 0
            while seen < wanted:
                batch = await consumer.getmany(tp, timeout_ms=2000, max_records=wanted - seen)
                seen += len(batch.get(tp, []))
            commits[tp] = seen
        await consumer.commit(commits)
    finally:
        await consumer.stop()


async def wait_for(condition: Callable[[], bool], what: str, seconds: float = 30.0, step: float = 0.1) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``seconds``."""
    for _ in range(int(seconds / step)):
        if condition():
            return
        await asyncio.sleep(step)
    raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")


Record = tuple[int, int, int, bytes | None, bytes | None, tuple[tuple[str, bytes | None], ...]]


async def read_all(bootstrap: str, topic: str, read_committed: bool = True) -> dict[int, list[Record]]:
    """Every record a consumer can see, per partition: (offset, timestamp, timestamp type, key,
    value, headers). The ground truth a backup is compared with."""
    from aiokafka import TopicPartition as TP

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                isolation_level="read_committed" if read_committed else "read_uncommitted",
                                max_partition_fetch_bytes=4 << 20, fetch_max_bytes=16 << 20)
    await consumer.start()
    try:
        partitions = sorted(consumer.partitions_for_topic(topic) or await _partitions(consumer, topic))
        tps = [TP(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)  # the last stable offset under read_committed
        result: dict[int, list[Record]] = {p: [] for p in partitions}
        for _ in range(600):
            positions = {tp: await consumer.position(tp) for tp in tps}
            if all(positions[tp] >= ends[tp] for tp in tps):
                return result
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                result[tp.partition].extend(
                    (r.offset, r.timestamp, r.timestamp_type, r.key, r.value, tuple(r.headers)) for r in records)
        raise AssertionError(f"could not read {topic} to its end offsets {ends}")
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or set()
