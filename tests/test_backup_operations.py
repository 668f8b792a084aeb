"""Ranges, consumer-group offsets, the concurrency limit and pruning, with the real broker."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.catalog import COMPLETE, INCOMPLETE, RUNNING, list_backups, plan_prune, prune
from kafka_sre_tui.engine.errors import ConfigError, KsreError
from kafka_sre_tui.engine.storage.layout import running
from kafka_sre_tui.localkafka import LocalKafka, kafka_libs
from tests.backup_helpers import backup, read_backup
from tests.kafka_helpers import consume_and_commit, create_topic, produce, read_all


async def test_offset_range_partitions_and_max_messages(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                        tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 3)
    await produce(bs, unique, {0: 100, 1: 100, 2: 100})
    everything = await read_all(bs, unique)

    ranged = await backup(cluster, unique, tmp_path, from_offset=10, to_offset=19)
    assert read_backup(ranged.path) == {p: everything[p][10:20] for p in range(3)}

    some = await backup(cluster, unique, tmp_path, partitions=(0, 2), max_messages=7)
    assert read_backup(some.path) == {0: everything[0][:7], 2: everything[2][:7]}
    assert [p.end_offset for p in some.manifest.partitions] == [7, 7]


async def test_time_range(kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1)
    producer = AIOKafkaProducer(bootstrap_servers=bs)
    await producer.start()
    base = 1_700_000_000_000
    for i in range(30):
        await producer.send_and_wait(unique, f"{i}".encode(), timestamp_ms=base + i * 60_000)  # one a minute
    await producer.stop()
    result = await backup(cluster, unique, tmp_path, from_time_ms=base + 10 * 60_000, to_time_ms=base + 19 * 60_000)
    assert [r[4] for r in read_backup(result.path)[0]] == [f"{i}".encode() for i in range(10, 20)]


async def test_group_offsets_are_kept(kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 20, 1: 20})
    await consume_and_commit(bs, f"{unique}-a", unique, {0: 5, 1: 20})
    await consume_and_commit(bs, f"{unique}-b", unique, {1: 3})
    result = await backup(cluster, unique, tmp_path)
    assert result.manifest.consumer_groups == {f"{unique}-a": {"0": 5, "1": 20}, f"{unique}-b": {"1": 3}}


async def test_bad_input_fails_before_writing_anything(cluster: ClusterConfig, kafka: LocalKafka, unique: str,
                                                       tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    with pytest.raises(ConfigError, match=r"partitions 0-1; partition\(s\) 5 do not exist"):
        await backup(cluster, unique, tmp_path, partitions=(0, 5))
    with pytest.raises(KsreError, match=r"topic .* does not exist on cluster"):
        await backup(cluster, f"{unique}-nope", tmp_path)
    for rate in (0.0, -1.0, float("nan")):
        with pytest.raises(ConfigError, match=r"--rate-limit must be > 0 MB/s"):
            await backup(cluster, unique, tmp_path, rate_limit_mb_s=rate)
    assert list_backups(tmp_path) == []


async def test_max_concurrent_backups_is_enforced(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                  tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 1)
    with running(tmp_path, tmp_path / "20200101T000000000Z-other-aaaaaa", "20200101T000000000Z-other-aaaaaa", 1):
        with pytest.raises(KsreError, match=r"max_concurrent_backups \(1\) reached .* running "
                                            r"20200101T000000000Z-other-aaaaaa"):
            await backup(cluster, unique, tmp_path, max_concurrent_backups=1)
        assert [p.name for p in tmp_path.iterdir()] == ["20200101T000000000Z-other-aaaaaa"]  # nothing left behind
        ok = await backup(cluster, unique, tmp_path, max_concurrent_backups=2)
    assert ok.manifest.records == 0
    assert {b.backup_id: b.status for b in list_backups(tmp_path)}[ok.backup_id] == COMPLETE


async def test_prune_by_age_and_size_never_touches_a_running_backup(kafka: LocalKafka, cluster: ClusterConfig,
                                                                    unique: str, tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 1)
    await produce(kafka.bootstrap_servers, unique, {0: 200})
    results = [await backup(cluster, unique, tmp_path, compression="none") for _ in range(3)]
    size = list_backups(tmp_path)[0].size_bytes
    later = datetime.now(UTC) + timedelta(days=10)
    old_running = tmp_path / "20200101T000000000Z-stuck-abcdef"
    with running(tmp_path, old_running, old_running.name, 5):
        assert {b.backup_id: b.status for b in list_backups(tmp_path)}[old_running.name] == RUNNING
        by_age = plan_prune(tmp_path, retention_days=7, max_size_gb=1000, now=later)
        assert {d.backup.backup_id for d in by_age} == {r.backup_id for r in results}  # the running one stays
        by_size = prune(tmp_path, retention_days=30, max_size_gb=2.5 * size / 1e9, now=datetime.now(UTC),
                        dry_run=False)
        assert [d.backup.backup_id for d in by_size] == [results[0].backup_id]  # the oldest goes first
    remaining = {b.backup_id: b.status for b in list_backups(tmp_path)}
    assert remaining == {results[1].backup_id: COMPLETE, results[2].backup_id: COMPLETE, old_running.name: INCOMPLETE}


def test_cli_backup_list_show_and_prune_dry_run(kafka: LocalKafka, unique: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    asyncio.run(create_topic(kafka.bootstrap_servers, unique, 2))
    asyncio.run(produce(kafka.bootstrap_servers, unique, {0: 10, 1: 5}))
    common = ["--cluster", kafka.bootstrap_servers, "--backup-dir", str(tmp_path)]
    assert main(["backup", "--topic", unique, *common, "--compression", "gzip", "--level", "9"]) == 0
    backup_id = capsys.readouterr().out.strip().splitlines()[-1]  # the id is the last line
    assert main(["backup", "--topic", unique, *common, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["metrics"]["messages"] == 15 and doc["backup_id"] != backup_id

    assert main(["backups", "list", "--backup-dir", str(tmp_path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    first = listed[0]
    assert (first["backup_id"], first["status"], first["records"]) == (backup_id, "complete", 15)
    assert main(["backups", "show", backup_id, "--backup-dir", str(tmp_path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["compression"] == {"codec": "gzip", "level": 9} and shown["manifest_intact"] is True
    assert main(["backups", "prune", "--dry-run", "--backup-dir", str(tmp_path)]) == 0
    assert "0 backups would delete" in capsys.readouterr().out
    assert main(["backup", "--topic", unique, *common, "--level", "40"]) == 2
    assert "--level 40 is out of range for zstd: use 1 to 22" in capsys.readouterr().err


async def test_topic_metadata_matches_kafkas_own_tool(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                      tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 3, {"cleanup.policy": "compact", "retention.ms": "600000"})
    result = await backup(cluster, unique, tmp_path)
    described = subprocess.run(
        ["java", "-cp", f"{kafka_libs()}/*", "org.apache.kafka.tools.TopicCommand", "--bootstrap-server",
         kafka.bootstrap_servers, "--describe", "--topic", unique], capture_output=True, text=True, check=True).stdout
    topic_id = described.split("TopicId:")[1].split()[0]
    assert result.manifest.topic == {"name": unique, "partition_count": 3, "replication_factor": 1,
                                     "configs": {"cleanup.policy": "compact", "retention.ms": "600000"},
                                     "topic_id": topic_id}
