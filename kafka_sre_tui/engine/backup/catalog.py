"""The backups in a directory: list them, show one, verify one, prune by age and total size."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka_sre_tui.engine.audit import audited
from kafka_sre_tui.engine.backup.partition import STATE_FILE, PartitionState
from kafka_sre_tui.engine.backup.run import PLAN_FILE
from kafka_sre_tui.engine.errors import KsreError, NotFound
from kafka_sre_tui.engine.storage.encryption import EncryptionKey, unlock_backup
from kafka_sre_tui.engine.storage.layout import backup_dir, is_backup_id, is_running
from kafka_sre_tui.engine.storage.manifest import MANIFEST, ManifestError, read_manifest
from kafka_sre_tui.engine.storage.store import Location, open_location, read_json, write_json
from kafka_sre_tui.engine.storage.verify import VerifyResult, verify_backup

COMPLETE, RUNNING, INCOMPLETE = "complete", "running", "incomplete"
VERIFY_RECORD = "verify.json"  # the last verify's verdict, in the backup's folder


@dataclass(frozen=True)
class BackupSummary:
    backup_id: str
    status: str
    topic: str
    created_at: datetime
    records: int
    size_bytes: int
    compression: str
    path: Location


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


def list_backups(where: Location | Path) -> list[BackupSummary]:
    base = open_location(where)
    if not base.is_dir():
        return []
    return [summarize(p) for p in sorted(base.iterdir(), key=str) if is_backup_id(p.name) and p.is_dir()]


def find_backup(where: Location | Path, backup_id: str) -> Location:
    base = open_location(where)
    folder = backup_dir(base, backup_id)
    if not folder.is_dir():
        raise NotFound(f"no backup {backup_id} in {base}; list them with: kafka-sre-tui backups list")
    return folder


async def verify(base: Location | Path, backup_id: str, encryption_key: EncryptionKey | None = None) -> VerifyResult:
    """Verify a backup and keep the verdict next to it (``verify.json``, read by ``health``)."""
    folder = find_backup(base, backup_id)
    unlock_backup(folder, encryption_key)
    result = await asyncio.to_thread(verify_backup, folder)
    with contextlib.suppress(OSError, KsreError):  # a read-only mount or bucket: verified all the same
        write_json(folder / VERIFY_RECORD, {"intact": result.intact, "at": datetime.now(UTC).isoformat(),
                                                   "damage": [d.describe(backup_id) for d in result.damage]})
    return result


@dataclass(frozen=True)
class PruneDecision:
    backup: BackupSummary
    reason: str


def plan_prune(base: Location | Path, retention_days: int, max_size_gb: float, now: datetime) -> list[PruneDecision]:
    """Backups older than ``retention_days``, then the oldest until the rest fit ``max_size_gb``.
    A backup that is being written is never chosen."""
    everything = list_backups(base)
    candidates = [b for b in everything if b.status != RUNNING]
    cutoff = now - timedelta(days=retention_days)
    chosen = [PruneDecision(b, f"older than {retention_days} days") for b in candidates if b.created_at < cutoff]
    gone = {d.backup.backup_id for d in chosen}
    total = sum(b.size_bytes for b in everything if b.backup_id not in gone)
    limit = max_size_gb * 1e9
    for b in candidates:  # oldest first: ids sort by time
        if total <= limit:
            break
        if b.backup_id not in gone:
            chosen.append(PruneDecision(b, f"total size over {max_size_gb:g} GB"))
            gone.add(b.backup_id)
            total -= b.size_bytes
    return chosen


def prune(base: Location | Path, retention_days: int, max_size_gb: float, now: datetime,
          dry_run: bool) -> list[PruneDecision]:
    """Delete what :func:`plan_prune` chose (``dry_run``: only say it); a real prune is audited with
    the ids it deleted."""
    if dry_run:
        return plan_prune(base, retention_days, max_size_gb, now)
    parameters = {"backup_dir": str(base), "retention_days": retention_days, "max_backup_size_gb": max_size_gb}
    with audited("backups.prune", cluster=None, parameters=parameters) as outcome:
        decisions = plan_prune(base, retention_days, max_size_gb, now)
        deleted = outcome.parameters["deleted"] = []
        for decision in decisions:
            if not is_running(decision.backup.path):  # it may have been resumed since we looked
                decision.backup.path.remove_tree()
                deleted.append(decision.backup.backup_id)
    return decisions
