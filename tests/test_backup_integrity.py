"""Verify catches every kind of damage and names it; a killed backup resumes with no gap and no duplicate."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.catalog import list_backups
from kafka_sre_tui.engine.backup.run import BackupResult
from kafka_sre_tui.engine.storage.verify import verify_backup
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup, read_backup
from tests.kafka_helpers import create_topic, produce, read_all


@pytest.fixture
async def small_backup(kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path) -> BackupResult:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await produce(kafka.bootstrap_servers, unique, {0: 500, 1: 300})
    return await backup(cluster, unique, tmp_path, compression="zstd")


def _segment(result: BackupResult, partition: int = 0) -> Path:
    return result.path / result.manifest.partitions[partition].segments[0].file


def _problems(result: BackupResult) -> list[str]:
    return [d.describe(result.backup_id) for d in verify_backup(result.path).damage]


def test_intact_backup_verifies_and_cli_exits_0(small_backup: BackupResult, capsys: pytest.CaptureFixture[str]) -> None:
    assert _problems(small_backup) == []
    assert main(["verify", small_backup.backup_id, "--backup-dir", str(small_backup.path.parent)]) == 0
    assert "intact; 800 records" in capsys.readouterr().out


def test_flipped_byte_is_named(small_backup: BackupResult, capsys: pytest.CaptureFixture[str]) -> None:
    path = _segment(small_backup, 1)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    [problem] = _problems(small_backup)
    seg = small_backup.manifest.partitions[1].segments[0]
    assert f"partition 1, file {seg.file}, offsets {seg.blocks[0].first_offset}-" in problem
    assert "CRC" in problem
    assert main(["verify", small_backup.backup_id, "--backup-dir", str(small_backup.path.parent), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["intact"] is False and doc["damage"] == [problem]


def test_truncated_file_is_named(small_backup: BackupResult) -> None:
    path = _segment(small_backup)
    path.write_bytes(path.read_bytes()[:-10])
    problems = _problems(small_backup)
    assert any("partition 0" in p and "truncated" in p for p in problems), problems


def test_missing_file_is_named(small_backup: BackupResult) -> None:
    _segment(small_backup).unlink()
    problems = _problems(small_backup)
    assert problems == [f"backup {small_backup.backup_id}, partition 0, file "
                        f"{small_backup.manifest.partitions[0].segments[0].file}, offsets 0-499: file is missing"]


def test_edited_manifest_is_caught(small_backup: BackupResult) -> None:
    manifest = small_backup.path / "manifest.json"
    doc = json.loads(manifest.read_text())
    doc["partitions"][0]["records"] = 499  # a "small fix" by hand
    manifest.write_text(json.dumps(doc))
    assert any("manifest.json was changed" in p for p in _problems(small_backup))


def test_block_lying_about_its_records_is_caught(small_backup: BackupResult) -> None:
    manifest = small_backup.path / "manifest.json"
    doc = json.loads(manifest.read_text())
    doc["partitions"][0]["segments"][0]["blocks"][0]["records"] += 1
    manifest.write_text(json.dumps(doc))
    problems = _problems(small_backup)
    assert any("disagrees with the manifest" in p for p in problems), problems


def test_killed_backup_resumes_with_no_gap_and_no_duplicate(kafka: LocalKafka, unique: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers

    async def load() -> None:
        await create_topic(bs, unique, 3)
        producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5, max_batch_size=64 << 10)
        await producer.start()
        for i in range(24_000):
            await producer.send(unique, os.urandom(400), key=f"k{i}".encode(), partition=i % 3)
        await producer.flush()
        await producer.stop()

    import asyncio

    asyncio.run(load())
    cmd = [sys.executable, "-m", "kafka_sre_tui", "backup", "--cluster", bs, "--topic", unique, "--backup-dir",
           str(tmp_path), "--rate-limit", "2", "--checkpoint-seconds", "0.2", "--compression", "lz4"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:  # kill -9 once some, not all, is durable
        states = list(tmp_path.glob("*/partitions/*/state.json"))
        if states and sum(json.loads(s.read_text())["records"] for s in states) > 3000:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    [interrupted] = list_backups(tmp_path)
    assert interrupted.status == "incomplete" and 0 < interrupted.records < 24_000

    assert main(["backup", "--resume", interrupted.backup_id, "--backup-dir", str(tmp_path)]) == 0
    [done] = list_backups(tmp_path)
    assert done.status == "complete" and done.records == 24_000
    assert read_backup(done.path) == asyncio.run(read_all(bs, unique))
    assert verify_backup(done.path).intact
    assert not list(done.path.rglob("*.tmp")) and not list(done.path.rglob("state.json"))


def test_invalid_backup_ids_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("../x", "/etc", "20261124T181500123Z-../../x-abcdef"):
        assert main(["verify", bad, "--backup-dir", str(tmp_path)]) == 2
        assert f"invalid backup id '{bad}'" in capsys.readouterr().err
