"""Restoring in tests, reading the target back, and the CLI with ``restore`` wired in."""

from __future__ import annotations

from pathlib import Path

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.kafka.batches import HEADER_SIZE
from kafka_sre_tui.engine.restore.events import RestoreResult
from kafka_sre_tui.engine.restore.plan import RestoreRequest
from kafka_sre_tui.engine.restore.run import restore_backup
from kafka_sre_tui.engine.storage.manifest import read_manifest
from kafka_sre_tui.engine.storage.reader import iter_batches
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


StoredBatchFacts = tuple[int, int, int, int, int, bytes]  # codec, base offset, records, first/max timestamp, records


def stored_batches(folder: Path) -> dict[int, list[StoredBatchFacts]]:
    """Each partition's record batches in a backup, as the broker had them: codec, base offset, record
    count, first and max timestamp, and the bytes of the records (everything after the header)."""
    manifest, _intact = read_manifest(folder)
    return {p.partition: [(h.codec, h.base_offset, h.record_count, h.first_timestamp, h.max_timestamp,
                           bytes(view[HEADER_SIZE:])) for h, view in iter_batches(folder, p)]
            for p in manifest.partitions}


def records_sent_as_stored(source: list[StoredBatchFacts], target: list[StoredBatchFacts]) -> int:
    """How many of the source's batches are in the target byte for byte (records, codec, count and
    timestamps): what the restore sent as stored, not re-encoded."""
    kept = {(codec, count, first, high, data) for codec, _base, count, first, high, data in target}
    return sum(1 for codec, _base, count, first, high, data in source if (codec, count, first, high, data) in kept)
