"""Chains of backup sets as prune sees them: every link that shares a base, deleted or kept together."""

from __future__ import annotations

from dataclasses import dataclass

from kafka_sre_tui.engine.backup.summary import BackupSummary


@dataclass(frozen=True)
class Chain:
    base_id: str
    links: list[BackupSummary]  # oldest first; unfinished links (running, incomplete) included

    @property
    def newest(self) -> BackupSummary:
        return max(self.links, key=lambda b: (b.created_at, b.backup_id))


def chains(sets: list[BackupSummary]) -> list[Chain]:
    """The sets grouped by the full set their chain starts from (an increment names it in set.json, an
    unfinished one in its plan when it can be read; otherwise a set stands alone), oldest base first."""
    grouped: dict[str, list[BackupSummary]] = {}
    for summary in sorted(sets, key=lambda b: b.backup_id):
        grouped.setdefault(summary.chain_base or summary.backup_id, []).append(summary)
    return [Chain(base, links) for base, links in sorted(grouped.items())]
