"""A restore writes back what a consumer saw: compared record by record (partition, order, key, value,
headers, timestamp) with the source topic as a read_committed consumer reads it; ranges restore
exactly the records in range."""

from __future__ import annotations

from pathlib import Path

from aiokafka import AIOKafkaProducer

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.target.checks import FAIL, WARN
from kafka_sre_tui.engine.target.topic import inspect_target
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup
from tests.kafka_helpers import create_topic, read_all
from tests.restore_helpers import cluster_of, content, restore
from tests.test_backup_fidelity import _tricky_topic


async def test_round_trip_into_a_new_topic(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                           tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await _tricky_topic(bs, unique)
    done = await backup(cluster, unique, tmp_path)
    result = await restore(cluster, tmp_path, done.backup_id, target_topic=f"{unique}-r", create_topic=True,
                           override_retention=True)
    source, target = await read_all(bs, unique), await read_all(bs, f"{unique}-r")
    assert target == source  # offsets too: a fresh topic and a source with no gaps
    assert sum(map(len, target.values())) == result.metrics.messages == 3 * 8 + 3000  # type: ignore[union-attr]
    assert all(r[2] == 0 for rs in target.values() for r in rs)  # CreateTime, with the records' own times
    async with KafkaSession(cluster) as session:
        created = await inspect_target(session, f"{unique}-r")
    assert created.partitions == 4
    assert created.configs["message.timestamp.after.max.ms"] == str(2**63 - 1)  # the backup's configs
    assert created.configs["retention.ms"] == "-1"  # --override-retention
    assert [p.offset_map for p in result.partitions][:3] == [((0, 0, len(source[p])),) for p in range(3)]


async def test_round_trip_into_the_second_cluster(kafka: LocalKafka, kafka2: LocalKafka, cluster: ClusterConfig,
                                                  unique: str, tmp_path: Path) -> None:
    await _tricky_topic(kafka.bootstrap_servers, unique)
    done = await backup(cluster, unique, tmp_path)
    result = await restore(cluster_of(kafka2), tmp_path, done.backup_id, create_topic=True, override_retention=True)
    assert result.topic == unique and result.cluster == "target"
    assert await read_all(kafka2.bootstrap_servers, unique) == await read_all(kafka.bootstrap_servers, unique)


async def _timed_topic(bs: str, topic: str) -> None:
    """Two partitions of 50 records each, record i of partition p stamped at 1_000_000 * (i + 1) + p."""
    await create_topic(bs, topic, 2)
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5)
    await producer.start()
    for i in range(50):
        for p in (0, 1):
            await producer.send(topic, f"{p}-{i}".encode(), key=f"k{i}".encode(), partition=p,
                                timestamp_ms=1_700_000_000_000 + 1_000 * (i + 1) + p)
    await producer.stop()


async def test_offset_range_restores_exactly_the_range(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                       tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await _timed_topic(bs, unique)
    done = await backup(cluster, unique, tmp_path)
    await restore(cluster, tmp_path, done.backup_id, target_topic=f"{unique}-r", create_topic=True,
                  from_offset=10, to_offset=19, partitions=(1,), override_retention=True)
    source, target = await read_all(bs, unique), await read_all(bs, f"{unique}-r")
    assert target[0] == [] and content(target[1]) == content(source[1][10:20])
    assert [r[0] for r in target[1]] == list(range(10))


async def test_time_range_restores_exactly_the_range(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                     tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await _timed_topic(bs, unique)
    done = await backup(cluster, unique, tmp_path)
    base = 1_700_000_000_000
    await restore(cluster, tmp_path, done.backup_id, target_topic=f"{unique}-r", create_topic=True,
                  from_time_ms=base + 5_000, to_time_ms=base + 9_000, override_retention=True)
    source, target = await read_all(bs, unique), await read_all(bs, f"{unique}-r")
    for p in (0, 1):
        expected = [r for r in source[p] if base + 5_000 <= r[1] <= base + 9_000]
        assert content(target[p]) == content(expected)
        assert len(expected) == (5 if p == 0 else 4)  # partition 1 is stamped 1 ms later: 9_001 is out


async def test_dry_run_reports_and_writes_nothing(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                  tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await _tricky_topic(bs, unique)
    done = await backup(cluster, unique, tmp_path)
    result = await restore(cluster, tmp_path, done.backup_id, target_topic=f"{unique}-r", dry_run=True)
    checks = {c.name: c for c in result.preflight.checks}  # type: ignore[union-attr]
    assert checks["topic"].level == FAIL and "--create-topic" in checks["topic"].message
    result = await restore(cluster, tmp_path, done.backup_id, target_topic=f"{unique}-r", dry_run=True,
                           create_topic=True)
    checks = {c.name: c for c in result.preflight.checks}  # type: ignore[union-attr]
    assert result.preflight.ok and checks["retention"].level == WARN  # type: ignore[union-attr]
    assert "--override-retention" in checks["retention"].message  # records from 1995 would be deleted at once
    async with KafkaSession(cluster) as session:
        assert not (await inspect_target(session, f"{unique}-r")).exists
    assert not result.partitions and result.metrics is None
