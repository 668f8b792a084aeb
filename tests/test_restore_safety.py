"""A restore never writes from a damaged backup, into a non-empty topic without --force, or into a
read_only cluster; refusals are one clear line and leave the target as it was."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.run import BackupResult
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.restore.events import BackupDamaged, PreflightFailed
from kafka_sre_tui.engine.target.topic import inspect_target
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup
from tests.kafka_helpers import create_topic, produce, read_all
from tests.restore_helpers import cluster_of, content, restore


@pytest.fixture
async def small(kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path) -> BackupResult:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await produce(kafka.bootstrap_servers, unique, {0: 200, 1: 100})
    return await backup(cluster, unique, tmp_path)


async def _exists(cluster: ClusterConfig, topic: str) -> bool:
    async with KafkaSession(cluster) as session:
        return (await inspect_target(session, topic)).exists


async def test_damaged_backup_writes_nothing(small: BackupResult, cluster: ClusterConfig, unique: str) -> None:
    segment = small.path / small.manifest.partitions[1].segments[0].file
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0x01
    segment.write_bytes(bytes(data))
    with pytest.raises(BackupDamaged) as caught:
        await restore(cluster, small.path.parent, small.backup_id, target_topic=f"{unique}-r", create_topic=True)
    assert f"partition 1, file {small.manifest.partitions[1].segments[0].file}" in str(caught.value)
    assert "nothing was written" in str(caught.value)
    assert not await _exists(cluster, f"{unique}-r")


def test_non_empty_target_needs_force(small: BackupResult, kafka: LocalKafka, unique: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    bs, base = kafka.bootstrap_servers, str(small.path.parent)
    asyncio.run(create_topic(bs, f"{unique}-r", 2))
    asyncio.run(produce(bs, f"{unique}-r", {1: 3}))
    before = asyncio.run(read_all(bs, f"{unique}-r"))
    args = ["restore", "--cluster", bs, "--backup-dir", base, "--backup-id", small.backup_id,
            "--target-topic", f"{unique}-r"]
    assert main(args) == 1
    captured = capsys.readouterr()
    [error] = captured.err.strip().splitlines()
    assert error == (f"error: restore refused: topic '{unique}-r' is not empty (partition 1: 3); restoring into "
                     "it would mix records; restore into a new topic (--target-topic) or pass --force; nothing was "
                     "written")
    assert "FAIL  empty:" in captured.out  # the preflight was shown first
    assert asyncio.run(read_all(bs, f"{unique}-r")) == before

    assert main([*args, "--force"]) == 0
    after, source = asyncio.run(read_all(bs, f"{unique}-r")), asyncio.run(read_all(bs, small.manifest.topic["name"]))
    assert content(after[0]) == content(source[0])
    assert after[1][:3] == before[1] and content(after[1][3:]) == content(source[1])


async def test_read_only_cluster_is_refused(small: BackupResult, kafka: LocalKafka, unique: str) -> None:
    with pytest.raises(ConfigError, match="read_only"):
        await restore(cluster_of(kafka, read_only=True), small.path.parent, small.backup_id,
                      target_topic=f"{unique}-r", create_topic=True)
    assert not await _exists(cluster_of(kafka), f"{unique}-r")


async def test_partition_counts_must_match_or_be_mapped(small: BackupResult, kafka: LocalKafka, cluster: ClusterConfig,
                                                        unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, f"{unique}-r", 3)
    with pytest.raises(PreflightFailed, match="--partition-map"):
        await restore(cluster, small.path.parent, small.backup_id, target_topic=f"{unique}-r")
    await restore(cluster, small.path.parent, small.backup_id, target_topic=f"{unique}-r", partition_map={0: 2, 1: 0})
    after, source = await read_all(bs, f"{unique}-r"), await read_all(bs, small.manifest.topic["name"])
    assert content(after[2]) == content(source[0]) and content(after[0]) == content(source[1]) and after[1] == []


def test_cli_dry_run_exit_codes_and_json(small: BackupResult, kafka: LocalKafka, unique: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    args = ["restore", "--cluster", kafka.bootstrap_servers, "--backup-dir", str(small.path.parent), "--backup-id",
            small.backup_id, "--target-topic", f"{unique}-r", "--dry-run", "--json"]
    assert main(args) == 1  # the topic does not exist and --create-topic is missing
    assert json.loads(capsys.readouterr().out)["preflight"]["ok"] is False
    assert main([*args, "--create-topic"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["dry_run"] and doc["preflight"]["ok"] and doc["preflight"]["records"] == 300
    assert doc["partitions"] == [] and not asyncio.run(_exists(cluster_of(kafka), f"{unique}-r"))
