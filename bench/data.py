"""The benchmark topic: JSON-like 1 KiB values that compress like real events, keys, two headers.

Values are built from a pool of distinct text fragments larger than any codec's window, with per-record
ids, amounts and timestamps, so compressors see neither identical bytes nor random ones.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Iterator

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.inspect.cluster import list_topics
from kafka_sre_tui.engine.kafka.session import KafkaSession

_TEXT = ("order shipped delayed customer warehouse refund invoice payment card express standard pallet "
          "carrier fragile gift wrap return exchange discount coupon loyalty premium basket checkout "
          "mobile web store pickup locker courier signature address billing tax region north south "
          "east west priority backorder supplier restock quantity size colour blue green large small")
_WORDS = _TEXT.split()
_STATUS = ("created", "paid", "packed", "shipped", "delivered", "returned")
_CITIES = ("Lisbon", "Oslo", "Austin", "Osaka", "Lyon", "Pune", "Leeds", "Quito", "Perth", "Graz")
_POOL = 16384  # fragments; ~10 MB of distinct text, larger than the zstd/lz4 windows


def _fragments(seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(_WORDS, k=120)) for _ in range(_POOL)]


class Records:
    """Deterministic records: ``key(i)``, ``value(i)`` (exactly ``value_bytes`` long), ``headers(i)``."""

    def __init__(self, value_bytes: int = 1024, seed: int = 7) -> None:
        self.value_bytes = value_bytes
        self.notes = _fragments(seed)
        self.base_ms = int(time.time() * 1000)

    def key(self, i: int) -> bytes:
        return b"customer-%07d" % ((i * 2654435761) % 250_000)

    def value(self, i: int) -> bytes:
        h = (i * 2654435761) & 0xFFFFFFFF
        head = (f'{{"order_id":"ord-{i:010d}","customer_id":"customer-{h % 250_000:07d}",'
                f'"status":"{_STATUS[h % 6]}","ts":{self.base_ms + i},"amount":{h % 100_000 / 100:.2f},'
                f'"currency":"EUR","city":"{_CITIES[h % 10]}","items":[{{"sku":"SKU-{h % 99_991:05d}",'
                f'"qty":{h % 7 + 1}}},{{"sku":"SKU-{(h >> 7) % 99_991:05d}","qty":{(h >> 3) % 5 + 1}}}],"note":"')
        room = max(self.value_bytes - len(head) - 2, 0)
        note = self.notes[h % _POOL]
        while len(note) < room:
            note += " " + self.notes[(h + len(note)) % _POOL]
        return (head + note[:room] + '"}').encode()[: self.value_bytes]

    def headers(self, i: int) -> list[tuple[str, bytes]]:
        return [("trace-id", b"%016x" % ((i * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)),
                ("source", b"checkout-service")]

    def partitioned(self, records: int, partitions: int) -> Iterator[tuple[int, int]]:
        """(partition, record index), keyed like a hash partitioner would: one key, one partition."""
        for i in range(records):
            yield (i * 2654435761) % 250_000 % partitions, i


async def create_topics(bootstrap: str, names: list[str], partitions: int, chunk: int = 200) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=120_000)
    await admin.start()
    try:
        for start in range(0, len(names), chunk):
            await admin.create_topics([NewTopic(n, partitions, 1) for n in names[start:start + chunk]],
                                      timeout_ms=120_000)
    finally:
        await admin.close()


async def load_topic(bootstrap: str, topic: str, records: int, partitions: int, source: Records,
                     batch_kib: int = 256) -> None:
    """Create ``topic`` and fill it with ``records`` records in full batches (the producer's fast path)."""
    await create_topics(bootstrap, [topic], partitions)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_batch_size=batch_kib << 10,
                                max_request_size=max(4 << 20, 2 * batch_kib << 10), acks="all")
    await producer.start()
    try:
        builders = {p: producer.create_batch() for p in range(partitions)}
        pending: list[asyncio.Future[object]] = []
        for p, i in source.partitioned(records, partitions):
            args = {"key": source.key(i), "value": source.value(i), "timestamp": None, "headers": source.headers(i)}
            if builders[p].append(**args) is None:
                pending.append(await producer.send_batch(builders[p], topic, partition=p))
                builders[p] = producer.create_batch()
                builders[p].append(**args)
                if len(pending) >= 4 * partitions:
                    await asyncio.gather(*pending)
                    pending.clear()
        for p, builder in builders.items():
            if builder.record_count():
                pending.append(await producer.send_batch(builder, topic, partition=p))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    # the broker's log sits in dirty pages that the kernel writes out over the next 30 s or so: whatever is
    # timed first would share the disk and a core with that writeback (the first backup after loading 1.1 GB
    # took 11.6 s where the Rust tool, timed last, took 9.95 s). Written out now, before anything is timed.
    await asyncio.to_thread(os.sync)


async def count_records(bootstrap: str, topic: str) -> int:
    """Records in a topic, as the dashboard counts them (end minus start offsets)."""
    cluster = ClusterConfig(name="bench", bootstrap_servers=(bootstrap,), request_timeout_seconds=60)
    async with KafkaSession(cluster) as session:
        return sum(t.messages for t in await list_topics(session, names=[topic]))
