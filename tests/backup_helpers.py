"""Backing up in tests, and reading a backup back as the same tuples as tests.kafka_helpers.read_all."""

from __future__ import annotations

from pathlib import Path

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.plan import BackupRequest
from kafka_sre_tui.engine.backup.run import BackupResult, backup_topic
from kafka_sre_tui.engine.storage.manifest import read_manifest
from kafka_sre_tui.engine.storage.reader import iter_records
from tests.kafka_helpers import Record


async def backup(cluster: ClusterConfig, topic: str, base: Path, **options: object) -> BackupResult:
    return await backup_topic(cluster, BackupRequest(topic=topic, base_path=base, **options))  # type: ignore[arg-type]


def read_backup(folder: Path) -> dict[int, list[Record]]:
    manifest, intact = read_manifest(folder)
    assert intact
    return {p.partition: [(r.offset, r.timestamp, r.timestamp_type, r.key, r.value, r.headers)
                          for r in iter_records(folder, p)] for p in manifest.partitions}
