"""migrate verify: counts and a checksum over (key, value, headers, timestamp) per partition on both
sides; a record altered on the target side is found (exit 1), an identical copy passes (exit 0); a
migration's raw copy is compared batch by batch, a differently batched copy record by record."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.engine.kafka.topic_writer import TopicWriter, WriterSettings
from kafka_sre_tui.engine.migrate import verify_migration
from kafka_sre_tui.engine.migrate.verify import record_digest_update
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import create_topic, produce, read_all
from tests.migrate_helpers import cluster_of, produce_varied, request


class _Rec:
    def __init__(self, offset: int, timestamp: int, key: bytes | None, value: bytes | None,
                 headers: tuple[tuple[str, bytes | None], ...]) -> None:
        self.offset, self.timestamp, self.key, self.value, self.headers = offset, timestamp, key, value, headers


def _digest(*record: object) -> str:
    d = hashlib.sha256()
    record_digest_update(d, *record)  # type: ignore[arg-type]
    return d.hexdigest()


def test_digest_covers_every_field() -> None:
    base = (b"k", b"v", [("h", b"1")], 5)
    variants = [(None, b"v", [("h", b"1")], 5), (b"k", b"", [("h", b"1")], 5), (b"k", b"v", [("h", None)], 5),
                (b"k", b"v", [("h", b"1"), ("h", b"1")], 5), (b"k", b"v", [("h", b"1")], 6),
                (b"kv", b"", [("h", b"1")], 5)]
    assert len({_digest(*base), *(_digest(*v) for v in variants)}) == len(variants) + 1


async def test_verify_finds_a_record_altered_on_the_target(kafka: LocalKafka, kafka2: LocalKafka, unique: str,
                                                           tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    await produce_varied(bs, unique, 2, 60)
    source, target = cluster_of(kafka, "a"), cluster_of(kafka2, "b")
    args = ["migrate", "--source-cluster", bs, "--source-topic", unique, "--target-cluster",
            kafka2.bootstrap_servers, "--state-dir", str(tmp_path)]
    assert await asyncio.to_thread(main, [*args, "--create-topic"]) == 0  # copies, then verifies: identical
    assert await asyncio.to_thread(main, ["migrate", "verify", *args[1:]]) == 0
    copied = await verify_migration(source, target, request(tmp_path, unique))
    assert copied.ok and {v.compared for v in copied.partitions} == {"batches"}  # copied as they were: no decoding

    # a copy made by hand with one record's value altered in place, same count
    tampered = f"{unique}-t"
    await create_topic(kafka2.bootstrap_servers, tampered, 2)
    records = await read_all(bs, unique)
    async with TopicWriter(target, tampered, WriterSettings(), lambda *_: None) as writer:
        for p, rs in records.items():
            for i, (offset, ts, _tt, key, value, headers) in enumerate(rs):
                altered = b"tampered" if (p, i) == (1, 17) else value
                await writer.write(p, _Rec(offset, ts, key, altered, headers))
    verdict = await verify_migration(source, target, request(tmp_path, unique, target_topic=tampered))
    assert not verdict.ok and verdict.ranges_from == "whole topics"
    by_partition = {v.partition: v for v in verdict.partitions}
    assert by_partition[0].match and not by_partition[1].match
    assert by_partition[0].compared == "records"  # same records, batched differently: compared decoded
    assert by_partition[1].source.records == by_partition[1].target.records == len(records[1])
    assert await asyncio.to_thread(main, ["migrate", "verify", *args[1:], "--target-topic", tampered]) == 1

    # a record appended to the migrated copy by someone else
    await produce(kafka2.bootstrap_servers, unique, {0: 1})
    assert await asyncio.to_thread(main, ["migrate", "verify", *args[1:]]) == 1


async def test_verify_finds_one_byte_changed_in_a_header_or_a_timestamp(kafka: LocalKafka, kafka2: LocalKafka,
                                                                         unique: str, tmp_path: Path) -> None:
    """Verify reads raw batches, not a consumer's records: a copy equal in count and in keys and values but
    with one header byte (partition 1) or one millisecond (partition 2) different must still fail there."""
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 3)
    await produce_varied(bs, unique, 3, 40)
    source, target = cluster_of(kafka, "a"), cluster_of(kafka2, "b")
    tampered = f"{unique}-t"
    await create_topic(kafka2.bootstrap_servers, tampered, 3)
    records = await read_all(bs, unique)
    async with TopicWriter(target, tampered, WriterSettings(), lambda *_: None) as writer:
        for p, rs in records.items():
            for i, (offset, ts, _tt, key, value, headers) in enumerate(rs):
                if p == 1 and i == 5:
                    assert headers[-1][1], "a record with a header value to alter"
                    name, data = headers[-1]
                    headers = (*headers[:-1], (name, bytes([data[0] ^ 1]) + data[1:]))
                if p == 2 and i == 5:
                    ts += 1
                await writer.write(p, _Rec(offset, ts, key, value, headers))
    verdict = await verify_migration(source, target, request(tmp_path, unique, target_topic=tampered))
    by_partition = {v.partition: v for v in verdict.partitions}
    assert [by_partition[p].match for p in range(3)] == [True, False, False]
    assert all(by_partition[p].source.records == by_partition[p].target.records == len(records[p]) for p in range(3))
