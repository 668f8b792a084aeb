"""The backups in a directory: list them, show one, verify one, prune by age and total size.

A backup set is one entry (its member backups live inside it and are never listed on their own), and
prune treats a chain of sets as one thing: it deletes a whole chain or keeps it whole."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka_sre_tui.engine.audit import audited
from kafka_sre_tui.engine.backup.set_catalog import summarize_set
from kafka_sre_tui.engine.backup.set_prune import Chain, chains
from kafka_sre_tui.engine.backup.summary import (
    COMPLETE,
    INCOMPLETE,
    RUNNING,
    BackupSummary,
    created_at,
    summarize,
)
from kafka_sre_tui.engine.errors import KsreError, NotFound
from kafka_sre_tui.engine.storage.backup_set import MEMBERS, is_set
from kafka_sre_tui.engine.storage.encryption import EncryptionKey, unlock_backup
from kafka_sre_tui.engine.storage.layout import backup_dir, is_backup_id, is_running
from kafka_sre_tui.engine.storage.store import Location, open_location, write_json
from kafka_sre_tui.engine.storage.verify import VerifyResult, verify_backup

__all__ = ["COMPLETE", "INCOMPLETE", "RUNNING", "BackupSummary", "created_at", "summarize"]
VERIFY_RECORD = "verify.json"  # the last verify's verdict, in the backup's folder


def list_backups(where: Location | Path) -> list[BackupSummary]:
    """One-topic backups and sets, oldest first (ids sort by time)."""
    base = open_location(where)
    if not base.is_dir():
        return []
    return [summarize_set(p) if _holds_set(p) else summarize(p)
            for p in sorted(base.iterdir(), key=str) if is_backup_id(p.name) and p.is_dir()]


def _holds_set(folder: Location) -> bool:
    """A set's folder, even one that lost its set.json and plan (its members are still there)."""
    return is_set(folder) or (folder / MEMBERS).is_dir()


def find_backup(where: Location | Path, backup_id: str) -> Location:
    base = open_location(where)
    folder = backup_dir(base, backup_id)
    if not folder.is_dir():
        raise NotFound(f"no backup {backup_id} in {base}; list them with: kafka-sre-tui backups list")
    return folder


def is_backup_set(where: Location | Path, backup_id: str) -> bool:
    """Whether ``backup_id`` names a set (complete or not) rather than a one-topic backup."""
    return _holds_set(find_backup(where, backup_id))


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
    """A one-topic backup to delete, or a chain of sets deleted or kept whole (``delete``) and why."""

    backup: BackupSummary  # a chain: its first link
    reason: str
    links: tuple[BackupSummary, ...] = ()  # a chain's links, oldest first; empty for a one-topic backup
    delete: bool = True

    @property
    def size_bytes(self) -> int:
        return sum(b.size_bytes for b in self.links) if self.links else self.backup.size_bytes

    @property
    def items(self) -> tuple[BackupSummary, ...]:
        return self.links or (self.backup,)


def plan_prune(base: Location | Path, retention_days: int, max_size_gb: float, now: datetime) -> list[PruneDecision]:
    """Backups older than ``retention_days``, then the oldest until the rest fit ``max_size_gb``. A chain
    of sets counts as one: it goes when its newest link is past retention (or for size, whole), else it
    is kept whole, and the decision says so. A backup that is being written is never chosen, nor a chain
    one of whose links is being written."""
    everything = list_backups(base)
    singles = [b for b in everything if not b.is_set and b.status != RUNNING]
    cutoff = now - timedelta(days=retention_days)
    units: list[tuple[datetime, PruneDecision]] = [
        (b.created_at, PruneDecision(b, f"older than {retention_days} days", delete=b.created_at < cutoff))
        for b in singles]
    for chain in chains([b for b in everything if b.is_set]):
        units.append((chain.newest.created_at, _chain_decision(chain, retention_days, cutoff)))
    units.sort(key=lambda unit: unit[0])
    total = sum(b.size_bytes for b in everything) - sum(d.size_bytes for _t, d in units if d.delete)
    limit = max_size_gb * 1e9
    decided = []
    for _newest, decision in units:  # oldest first
        if not decision.delete and total > limit and not any(b.status == RUNNING for b in decision.items):
            what = f": the whole chain goes ({len(decision.links)} links)" if decision.links else ""
            decision = PruneDecision(decision.backup, f"total size over {max_size_gb:g} GB{what}", decision.links)
            total -= decision.size_bytes
        if decision.delete or decision.links:  # a one-topic backup that stays needs no line
            decided.append(decision)
    return decided


def _chain_decision(chain: Chain, retention_days: int, cutoff: datetime) -> PruneDecision:
    newest, links = chain.newest, tuple(chain.links)
    count = f"{len(links)} link{'' if len(links) == 1 else 's'}"
    running = [b.backup_id for b in links if b.status == RUNNING]
    if running:
        return PruneDecision(links[0], f"{running[0]} is being written: the whole chain stays ({count})", links,
                             delete=False)
    newest_text = f"its newest link {newest.backup_id} ({newest.created_at:%Y-%m-%d %H:%M} UTC)"
    if newest.created_at < cutoff:
        return PruneDecision(links[0], f"{newest_text} is older than {retention_days} days: the whole chain goes "
                                       f"({count})", links)
    older = sum(1 for b in links if b.created_at < cutoff)
    needed = f"; {older} link(s) past retention stay because the newer ones need them" if older else ""
    return PruneDecision(links[0], f"{newest_text} is within {retention_days} days: the whole chain stays "
                                   f"({count}){needed}", links, delete=False)


def prune(base: Location | Path, retention_days: int, max_size_gb: float, now: datetime,
          dry_run: bool) -> list[PruneDecision]:
    """Delete what :func:`plan_prune` chose (``dry_run``: only say it); a real prune is audited with
    the ids it deleted. A chain's links go newest first: stopped half-way, what is left is a chain."""
    if dry_run:
        return plan_prune(base, retention_days, max_size_gb, now)
    parameters = {"backup_dir": str(base), "retention_days": retention_days, "max_backup_size_gb": max_size_gb}
    with audited("backups.prune", cluster=None, parameters=parameters) as outcome:
        decisions = plan_prune(base, retention_days, max_size_gb, now)
        deleted = outcome.parameters["deleted"] = []
        for decision in decisions:
            if not decision.delete:
                continue
            items = decision.items[::-1]
            if any(is_running(b.path) for b in items):  # resumed since we looked: keep it (whole)
                continue
            for backup in items:
                backup.path.remove_tree()
                deleted.append(backup.backup_id)
    return decisions
