"""migrate between two real clusters: every record kept (partition, order, key, value, headers,
timestamp), read_committed, the target created with the source's configs; --follow picks up records
produced while it runs; a read_only target and a target with too few partitions are refused."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.inspect.cluster import topic_configs
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.migrate import MigrateProgress, MigrationRefused, migrate, verify_migration
from kafka_sre_tui.engine.migrate.copy import PARTITION_FETCH_BYTES, RECORDS_PER_POLL
from kafka_sre_tui.engine.migrate.request import MigrateEvent
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import create_topic, produce, read_all, wait_for
from tests.migrate_helpers import MIGRATE_CLI, ROOT, cluster_of, content, produce_varied, request, run


async def test_copy_to_another_cluster_keeps_every_record(kafka: LocalKafka, kafka2: LocalKafka, unique: str,
                                                          tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 3, {"retention.ms": "-1", "segment.bytes": "1048576"})
    await produce_varied(kafka.bootstrap_servers, unique, 3, 200)
    source, target = cluster_of(kafka, "a"), cluster_of(kafka2, "b")
    result = await run(source, target, tmp_path, unique, create_topic=True)
    expected, copied = await asyncio.gather(read_all(kafka.bootstrap_servers, unique),
                                            read_all(kafka2.bootstrap_servers, unique))
    assert sorted(copied) == [0, 1, 2]
    for p in range(3):
        assert content(copied[p]) == content(expected[p]), f"partition {p} differs"
        assert len(copied[p]) == 201  # 200 plain + 1 committed transactional; the aborted one left out
    assert result.metrics.records == 603 and result.lag_records == 0
    ends = await _end(kafka, unique)  # past the transaction markers: nothing left to copy
    assert {p.partition: p.source_position for p in result.partitions} == ends
    async with KafkaSession(target) as session:
        configs = (await topic_configs(session, [unique]))[unique]
    assert configs["message.timestamp.type"] == "CreateTime" and configs["retention.ms"] == "-1"
    # the same cluster, topic to topic
    again = await run(source, source, tmp_path, unique, target_topic=f"{unique}-copy", create_topic=True)
    assert again.metrics.records == 603
    same = await read_all(kafka.bootstrap_servers, f"{unique}-copy")
    assert [content(same[p]) for p in range(3)] == [content(expected[p]) for p in range(3)]


async def _end(kafka: LocalKafka, topic: str) -> dict[int, int]:
    from kafka_sre_tui.engine.migrate.setup import stable_ends

    async with KafkaSession(cluster_of(kafka, "a")) as session:
        return await stable_ends(session, topic)


async def test_follow_mirrors_records_produced_while_it_runs(kafka: LocalKafka, kafka2: LocalKafka, unique: str,
                                                             tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 50, 1: 50})
    events: list[MigrateEvent] = []
    task = asyncio.create_task(migrate(cluster_of(kafka, "a"), cluster_of(kafka2, "b"),
                                       request(tmp_path, unique, follow=True, create_topic=True), events.append))
    copied: dict[int, list[object]] = {}

    async def reached(count: int) -> None:
        async def poll() -> bool:
            try:
                copied.update(await read_all(kafka2.bootstrap_servers, unique))
            except AssertionError:  # the mirror has not created the topic yet
                return False
            return sum(len(v) for v in copied.values()) >= count
        for _ in range(120):
            assert not task.done(), task.exception() if task.done() else ""
            if await poll():
                return
            await asyncio.sleep(0.25)
        raise AssertionError(f"the mirror did not reach {count} records")

    await reached(100)
    await produce(bs, unique, {0: 30, 1: 20})  # produced while the mirror runs
    await reached(150)
    await wait_for(lambda: any(isinstance(e, MigrateProgress) and e.following and e.records >= 50
                               and e.lag_records == 0 for e in events), "a progress event with lag 0")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    expected, copied_now = await asyncio.gather(read_all(bs, unique), read_all(kafka2.bootstrap_servers, unique))
    for p in (0, 1):
        assert content(copied_now[p]) == content(expected[p])


async def test_refusals(kafka: LocalKafka, kafka2: LocalKafka, unique: str, tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 3)
    await produce(kafka.bootstrap_servers, unique, {0: 5})
    with pytest.raises(ConfigError, match="read_only"):
        await run(cluster_of(kafka, "a"), cluster_of(kafka2, "b", read_only=True), tmp_path, unique,
                  create_topic=True)
    await create_topic(kafka2.bootstrap_servers, unique, 2)  # too few partitions
    with pytest.raises(MigrationRefused, match="partition-map"):
        await run(cluster_of(kafka, "a"), cluster_of(kafka2, "b"), tmp_path, unique)
    assert sum(len(v) for v in (await read_all(kafka2.bootstrap_servers, unique)).values()) == 0
    proc = await asyncio.create_subprocess_exec(
        *MIGRATE_CLI, "--source-cluster", kafka.bootstrap_servers, "--source-topic", unique,
        "--target-cluster", "b", "--target-topic", f"{unique}-x", "--create-topic",
        "--state-dir", str(tmp_path), cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "KAFKA_SRE_TUI_CONFIG": str(_read_only_config(tmp_path, kafka2))})
    _out, err = await proc.communicate()
    assert proc.returncode == 2 and b"read_only" in err


def _read_only_config(folder: Path, kafka2: LocalKafka) -> Path:
    path = folder / "config.toml"
    path.write_text(f'[clusters.b]\nbootstrap_servers = "{kafka2.bootstrap_servers}"\nread_only = true\n')
    return path


async def test_records_larger_than_a_fetch_and_more_than_a_poll(kafka: LocalKafka, kafka2: LocalKafka, unique: str,
                                                               tmp_path: Path) -> None:
    """The copy and its verify read small slices (PARTITION_FETCH_BYTES per partition, RECORDS_PER_POLL
    records per poll): a record larger than a partition's fetch still arrives whole (the broker returns
    at least one batch), and a partition holding many polls' worth of records is copied in order."""
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    big = PARTITION_FETCH_BYTES + 100_000
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5, max_request_size=4 << 20)
    await producer.start()
    try:
        for i in range(3 * RECORDS_PER_POLL):
            value = bytes([i % 251]) * big if i % 1000 == 500 else f"v{i}".encode()
            await producer.send(unique, value, key=f"k{i}".encode(), partition=i % 2, headers=[("n", b"%d" % i)])
        await producer.flush()
    finally:
        await producer.stop()
    source, target = cluster_of(kafka, "a"), cluster_of(kafka2, "b")
    result = await run(source, target, tmp_path, unique, create_topic=True)
    expected, copied = await asyncio.gather(read_all(bs, unique), read_all(kafka2.bootstrap_servers, unique))
    assert result.metrics.records == 3 * RECORDS_PER_POLL
    for p in range(2):
        assert content(copied[p]) == content(expected[p]), f"partition {p} differs"
    assert sum(1 for p in range(2) for r in copied[p] if r[4] is not None and len(r[4]) == big) == 3
    verdict = await verify_migration(source, target, request(tmp_path, unique))
    assert verdict.ok and verdict.ranges_from == "migration state"
    assert [v.source.records for v in verdict.partitions] == [len(expected[0]), len(expected[1])]
