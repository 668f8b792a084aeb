"""What a restore reports: progress while it writes, metrics and a result at the end, typed errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kafka_sre_tui.engine.errors import Refused
from kafka_sre_tui.engine.jobs import Checkpointed, Progress, Retrying
from kafka_sre_tui.engine.restore.offsets import GroupCommit
from kafka_sre_tui.engine.restore.preflight import Preflight


class BackupDamaged(Refused):
    """The backup failed verification; a restore writes nothing from it."""


class PreflightFailed(Refused):
    """A preflight check failed; nothing was written."""


@dataclass(frozen=True, kw_only=True)
class RestoreProgress(Progress):
    """``bytes``: keys, values and headers written by this run."""

    backup_id: str
    topic: str


@dataclass(frozen=True)
class Resumed:
    """Where a resumed restore picks up, per partition, before it writes."""

    backup_id: str
    topic: str
    partitions: tuple[tuple[int, int, int], ...]  # (partition, records checkpointed, found written after it)


RestoreEvent = Preflight | RestoreProgress | Resumed | Checkpointed | Retrying
Emit = Callable[[RestoreEvent], None]


def ignore(_: RestoreEvent) -> None:
    return None


@dataclass(frozen=True)
class RestoreMetrics:
    duration_seconds: float
    messages: int  # written by this run
    bytes_written: int
    throughput_mb_s: float
    records_per_second: float
    skipped_on_resume: int  # found already written after the last checkpoint of a killed run


@dataclass(frozen=True)
class PartitionOutcome:
    partition: int
    target_partition: int
    source_start: int
    source_end: int
    target_start: int
    records: int  # in the target partition from this restore, over every run
    skipped_on_resume: int
    offset_map: tuple[tuple[int, int, int], ...]  # (source first, target first, count)


@dataclass(frozen=True)
class RestoreResult:
    backup_id: str
    cluster: str
    topic: str
    dry_run: bool
    preflight: Preflight | None  # None when resumed
    partitions: tuple[PartitionOutcome, ...]
    metrics: RestoreMetrics | None
    groups: tuple[GroupCommit, ...]
    state_path: Path | None

    @property
    def groups_not_committed(self) -> list[GroupCommit]:
        return [g for g in self.groups if not g.committed]
