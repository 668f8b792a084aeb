"""Health of a headless installation: can we reach the cluster, and is the backup directory fit
to take the next backup? Every check says what it looked at and why it passed or failed.

Checks: ``cluster`` (connect, one Metadata request timed in ms), ``backup_dir`` (exists, a
directory, a file can be created and removed in it), ``free_space`` (the disk holds what the backups
may still grow to under ``max_backup_size_gb``), ``incomplete_backups`` (none older than a day that
nothing is writing), ``newest_backups`` (the newest complete backup of each topic and its age:
informational), ``verify_failures`` (the last ``verify`` of each backup, recorded next to it,
found no damage).
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.catalog import COMPLETE, INCOMPLETE, VERIFY_RECORD, BackupSummary, list_backups
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.storage.backup_set import read_set_manifest
from kafka_sre_tui.engine.storage.manifest import ManifestError
from kafka_sre_tui.engine.storage.store import Location, open_location, read_json

INCOMPLETE_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthReport:
    checks: tuple[Check, ...]

    @property
    def healthy(self) -> bool:
        return all(c.ok for c in self.checks)


async def check_health(cluster: ClusterConfig | None, base: Location | Path, max_backup_size_gb: float | None,
                       now: datetime, clock: Callable[[], float] = time.monotonic) -> HealthReport:
    """Run every check; with ``cluster`` None (none configured) the cluster check says it did not run."""
    checks = [await check_cluster(cluster, clock) if cluster is not None else
              Check("cluster", True, "not checked: no --cluster given and no default_cluster configured")]
    checks += await asyncio.to_thread(check_backups, base, max_backup_size_gb, now)
    return HealthReport(tuple(checks))


def check_backups(where: Location | Path, max_backup_size_gb: float | None, now: datetime) -> list[Check]:
    """The checks on the backup directory or bucket (storage work: run it in a thread)."""
    location = open_location(where)
    base = location.local_dir()
    if base is None:
        reachable = check_store(location)
        if not reachable.ok:
            return [reachable]
        backups = list_backups(location)
        free = Check("free_space", True, "not checked: an object store has no disk to fill", {"path": str(location)})
        return [reachable, free, check_incomplete(backups, now), check_newest(backups, now), check_verified(backups)]
    backups = list_backups(base) if base.is_dir() else []
    return [check_backup_dir(base), check_free_space(base, backups, max_backup_size_gb),
            check_incomplete(backups, now), check_newest(backups, now), check_verified(backups)]


def check_store(base: Location) -> Check:
    """An object store's prefix: an object can be written, read back and deleted there."""
    probe = base / f".health-{uuid.uuid4().hex}"
    try:
        probe.write_atomic(b"")
        probe.read_bytes()
        probe.unlink(missing_ok=True)
    except (KsreError, OSError) as exc:
        return Check("backup_dir", False, str(exc), {"path": str(base)})
    return Check("backup_dir", True, f"{base} is reachable and writable", {"path": str(base)})


async def check_cluster(cluster: ClusterConfig, clock: Callable[[], float] = time.monotonic) -> Check:
    where = f"{cluster.name} ({','.join(cluster.bootstrap_servers)})"
    try:
        async with KafkaSession(cluster) as session:
            started = clock()
            meta = await session.metadata([])
            latency_ms = (clock() - started) * 1000
    except KsreError as exc:
        return Check("cluster", False, str(exc), {"cluster": cluster.name})
    brokers = len(meta.brokers)
    return Check("cluster", True, f"{where} answered a metadata request in {latency_ms:.1f} ms ({brokers} brokers)",
                 {"cluster": cluster.name, "latency_ms": round(latency_ms, 1), "brokers": brokers})


def check_backup_dir(base: Path) -> Check:
    details = {"path": str(base)}
    if not base.exists():
        return Check("backup_dir", False, f"{base} does not exist; create it or fix [backup] base_path", details)
    if not base.is_dir():
        return Check("backup_dir", False, f"{base} is not a directory; fix [backup] base_path", details)
    probe = base / f".health-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return Check("backup_dir", False, f"cannot write in {base} ({exc.strerror}); fix its permissions or mount",
                     details)
    return Check("backup_dir", True, f"{base} exists and is writable", details)


def check_free_space(base: Path, backups: list[BackupSummary], max_backup_size_gb: float | None) -> Check:
    """With ``max_backup_size_gb`` set: the disk holds what the backups may still grow to under it. Not
    set (None): the disk holds the next backup, sized as the largest so far (at least 1 GB); a default
    cap the user never chose must not make a fresh install on a smaller disk unhealthy."""
    folder = base if base.exists() else next((p for p in base.parents if p.exists()), Path("/"))
    free = shutil.disk_usage(folder).free
    used = sum(b.size_bytes for b in backups)
    if max_backup_size_gb is None:
        largest = max((b.size_bytes for b in backups), default=0)
        needed = max(largest, NEXT_BACKUP_FLOOR_BYTES)
        details = {"path": str(folder), "free_bytes": free, "backups_bytes": used, "next_backup_bytes": needed,
                   "max_backup_size_gb": None}
        text = (f"{_size(free)} free on {folder}; the next backup needs about {_size(needed)} (the largest so far"
                f"{'' if largest >= NEXT_BACKUP_FLOOR_BYTES else ', at least 1 GB'}; set max_backup_size_gb to "
                "check against what the backups may grow to)")
        if free < needed:
            return Check("free_space", False, f"{text}: free space", details)
        return Check("free_space", True, text, details)
    room = max(max_backup_size_gb * 1e9 - used, 0)
    details = {"path": str(folder), "free_bytes": free, "backups_bytes": used, "headroom_bytes": int(room),
               "max_backup_size_gb": max_backup_size_gb}
    text = (f"{_size(free)} free on {folder}; backups use {_size(used)} and may grow by {_size(room)} more "
            f"(max_backup_size_gb {max_backup_size_gb:g})")
    if free < room:
        return Check("free_space", False, f"{text}: free space or lower max_backup_size_gb", details)
    return Check("free_space", True, text, details)


NEXT_BACKUP_FLOOR_BYTES = 1_000_000_000


def check_incomplete(backups: list[BackupSummary], now: datetime) -> Check:
    stale = [b for b in backups if b.status == INCOMPLETE and now - b.created_at > INCOMPLETE_AFTER]
    details = {"backup_ids": [b.backup_id for b in stale]}
    if stale:
        ids = ", ".join(b.backup_id for b in stale)
        return Check("incomplete_backups", False, f"{len(stale)} incomplete backups older than a day ({ids}); "
                     "resume them with: kafka-sre-tui backup --resume ID, or prune them", details)
    return Check("incomplete_backups", True, "no incomplete backup older than a day", details)


def check_newest(backups: list[BackupSummary], now: datetime) -> Check:
    newest: dict[str, BackupSummary] = {}
    for b in backups:  # ids sort by time, so the last one of each topic wins
        if b.status == COMPLETE:
            for topic in _topics_of(b):
                newest[topic] = b
    ages = {t: int((now - b.created_at).total_seconds()) for t, b in newest.items()}
    topics = [{"topic": t, "backup_id": b.backup_id, "age_seconds": ages[t]} for t, b in sorted(newest.items())]
    if not topics:
        return Check("newest_backups", True, "no complete backup yet", {"topics": []})
    listed = "; ".join(f"{t}: {_age(ages[t])} old ({b.backup_id})" for t, b in sorted(newest.items()))
    return Check("newest_backups", True, listed, {"topics": topics})


def _topics_of(backup: BackupSummary) -> list[str]:
    """The topics a complete backup holds: a set's are in its set.json (an unreadable one counts for none)."""
    if not backup.is_set:
        return [backup.topic]
    try:
        return [m.name for m in read_set_manifest(backup.path)[0].members]
    except ManifestError:
        return []


def check_verified(backups: list[BackupSummary]) -> Check:
    failed, checked = [], 0
    for b in backups:
        record = b.path / VERIFY_RECORD
        if record.exists():
            checked += 1
            if not read_json(record).get("intact", False):
                failed.append(b.backup_id)
    details = {"verified": checked, "failed": failed}
    if failed:
        return Check("verify_failures", False, f"{len(failed)} backups failed their last verify ({', '.join(failed)}); "
                     "see: kafka-sre-tui verify ID", details)
    return Check("verify_failures", True, f"{checked} of {len(backups)} backups verified, none damaged (a backup "
                 "counts once `kafka-sre-tui verify` has run on it)", details)


def _size(n: float) -> str:
    """Decimal units, as ``max_backup_size_gb`` is counted."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000:
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"


def _age(seconds: int) -> str:
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
