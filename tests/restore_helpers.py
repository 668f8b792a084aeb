"""Restoring in tests, reading the target back, and the CLI with ``restore`` wired in."""

from __future__ import annotations

from pathlib import Path

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.restore import restore_backup
from kafka_sre_tui.engine.restore_events import RestoreResult
from kafka_sre_tui.engine.restore_plan import RestoreRequest
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import Record


def cluster_of(kafka: LocalKafka, name: str = "target", read_only: bool = False) -> ClusterConfig:
    return ClusterConfig(name=name, bootstrap_servers=(kafka.bootstrap_servers,), request_timeout_seconds=15,
                         read_only=read_only)


async def restore(cluster: ClusterConfig, base: Path, backup_id: str, **options: object) -> RestoreResult:
    request = RestoreRequest(backup_base=base, backup_id=backup_id, **options)  # type: ignore[arg-type]
    return await restore_backup(cluster, request, settle_seconds=0.1)


def content(records: list[Record]) -> list[tuple[object, ...]]:
    """What a restore keeps of a record: everything but its offset."""
    return [r[1:] for r in records]
