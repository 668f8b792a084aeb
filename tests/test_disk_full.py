"""Disk full during a backup (a file size limit in the child, as on a full disk: writes fail with an
errno): one line naming the path and the space needed, the backup left incomplete and resumable,
other backups untouched."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from aiokafka import AIOKafkaProducer

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.catalog import list_backups
from kafka_sre_tui.engine.storage.verify import verify_backup
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup, read_backup
from tests.kafka_helpers import create_topic, read_all

LIMIT = 1_500_000  # bytes a file may reach in the child; the topic needs about 3 MB


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))  # Python ignores SIGXFSZ: writes fail with EFBIG


async def test_disk_full_stops_resumable_and_names_path_and_space(kafka: LocalKafka, cluster: ClusterConfig,
                                                                  unique: str, tmp_path: Path) -> None:
    bootstrap = kafka.bootstrap_servers
    await create_topic(bootstrap, unique, 1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    for i in range(3000):
        await producer.send(unique, os.urandom(1000), key=str(i).encode(), partition=0)
    await producer.stop()
    source = await read_all(bootstrap, unique)
    other = await backup(cluster, unique, tmp_path, max_messages=10)  # a backup that must stay as it is
    before = {p: p.stat().st_mtime_ns for p in other.path.rglob("*")}

    command = [sys.executable, "-m", "kafka_sre_tui", "backup", "--cluster", bootstrap, "--topic", unique,
               "--backup-dir", str(tmp_path), "--compression", "none", "--checkpoint-seconds", "0.2"]
    failed = subprocess.run(command, capture_output=True, text=True, timeout=300, preexec_fn=_limit_file_size)
    assert failed.returncode == 1, failed.stderr
    [line] = [ln for ln in failed.stderr.splitlines() if ln.startswith("error: ")]
    assert "Traceback" not in failed.stderr
    [folder] = [p for p in tmp_path.iterdir() if p.is_dir() and p != other.path]
    assert f"at {folder}/partitions/0/" in line and "the file size limit was reached" in line, line
    assert "it needs about" in line and "MiB more" in line, line
    assert f"continue it with kafka-sre-tui backup --resume {folder.name}" in line, line

    statuses = {b.backup_id: b.status for b in list_backups(tmp_path)}
    assert statuses == {other.backup_id: "complete", folder.name: "incomplete"}
    assert verify_backup(other.path).intact
    assert {p: p.stat().st_mtime_ns for p in other.path.rglob("*")} == before

    resumed = subprocess.run([sys.executable, "-m", "kafka_sre_tui", "backup", "--resume", folder.name,
                              "--backup-dir", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert read_backup(folder) == source
