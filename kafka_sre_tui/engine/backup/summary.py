"""One row of ``backups list``: a one-topic backup or a backup set, with its status and size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from kafka_sre_tui.engine.backup.partition import STATE_FILE, PartitionState
from kafka_sre_tui.engine.backup.run import PLAN_FILE
from kafka_sre_tui.engine.storage.layout import is_running
from kafka_sre_tui.engine.storage.manifest import MANIFEST, ManifestError, read_manifest
from kafka_sre_tui.engine.storage.store import Location, read_json

COMPLETE, RUNNING, INCOMPLETE = "complete", "running", "incomplete"
TOPIC = "topic"  # the kind of a one-topic backup; a set's kind is "full" or "incremental"


@dataclass(frozen=True)
class BackupSummary:
    backup_id: str
    status: str
    topic: str  # a set: "N topics"
    created_at: datetime
    records: int
    size_bytes: int
    compression: str
    path: Location
    kind: str = TOPIC
    link: int | None = None  # a set's place in its chain: 0 for a full set
    chain_base: str | None = None  # the full set its chain starts from (a set only)
    topics: int = 1
    workers: int = 0  # a set a workers group writes: its members that still checkpoint

    @property
    def status_text(self) -> str:
        """``running (3 workers)`` for a set a workers group is writing, else the status."""
        return f"{self.status} ({self.workers} worker{'' if self.workers == 1 else 's'})" if self.workers \
            else self.status

    @property
    def is_set(self) -> bool:
        return self.kind != TOPIC


def created_at(backup_id: str) -> datetime:
    return datetime.strptime(backup_id[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)


def summarize(folder: Location) -> BackupSummary:
    size = sum(n for _name, n in folder.files())
    backup_id = folder.name
    topic = backup_id[20:-7]
    if (folder / MANIFEST).exists():
        try:
            manifest, _intact = read_manifest(folder)
            return BackupSummary(backup_id, COMPLETE, manifest.topic["name"], created_at(backup_id), manifest.records,
                                 size, manifest.compression["codec"], folder)
        except ManifestError:
            return BackupSummary(backup_id, COMPLETE, topic, created_at(backup_id), 0, size, "?", folder)
    status = RUNNING if is_running(folder) else INCOMPLETE
    records, compression = 0, "?"
    if (folder / PLAN_FILE).exists():
        compression = read_json(folder / PLAN_FILE)["compression"]["codec"]
        parts = folder / "partitions"
        states = [p / STATE_FILE for p in (parts.iterdir() if parts.is_dir() else ())]
        records = sum(PartitionState.load(p).records for p in states if p.exists())
    return BackupSummary(backup_id, status, topic, created_at(backup_id), records, size, compression, folder)
