"""Reads that ask many partitions in one capped fetch must not give up on the partitions the cap starves.

A fetch answer holds at most ``max_bytes``, filled in the order the partitions were asked: while the
first partitions still have data, the last ones get no bytes. Seen in the bench: `migrate verify` of a
1 GB topic over 6 partitions failed with "stopped short of the offsets to verify (partition 4 at
offset 0 ...)". The caps are made small here so that a few MB of records show the same thing.
"""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.migrate import verify as migrate_verify
from kafka_sre_tui.engine.records import read as records_read
from kafka_sre_tui.engine.records.query import RecordQuery
from kafka_sre_tui.engine.records.read import ReadEnd, read_records
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import create_topic

PARTITIONS, PER_PARTITION, VALUE = 6, 300, b"v" * 2000  # about 600 KB per partition


async def _fill(bootstrap: str, topic: str) -> None:
    await create_topic(bootstrap, topic, PARTITIONS)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for i in range(PER_PARTITION):
            for p in range(PARTITIONS):
                await producer.send(topic, VALUE, key=str(i).encode(), partition=p)
        await producer.flush()
    finally:
        await producer.stop()


async def test_starved_partitions_are_read_to_the_end(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    await _fill(kafka.bootstrap_servers, unique)
    # two partitions fill each answer: the last four wait dozens of rounds for their first byte
    monkeypatch.setattr(migrate_verify, "FETCH_MAX_BYTES", 64 << 10)
    monkeypatch.setattr(migrate_verify, "PARTITION_FETCH_BYTES", 32 << 10)
    monkeypatch.setattr(records_read, "FETCH_BYTES", 64 << 10)
    monkeypatch.setattr(records_read, "PARTITION_FETCH_BYTES", 32 << 10)

    digests = await migrate_verify.digest_ranges(cluster, unique, [(p, 0, PER_PARTITION) for p in range(PARTITIONS)])
    assert {p: d.records for p, d in digests.items()} == dict.fromkeys(range(PARTITIONS), PER_PARTITION)

    query = RecordQuery(topic=unique, limit=None, max_scanned=None)
    async with KafkaSession(cluster) as session:
        read = [item async for item in read_records(session, query)]
    end = read[-1]
    assert isinstance(end, ReadEnd) and end.notes == ()
    assert len(read) - 1 == PARTITIONS * PER_PARTITION
