"""What a migration is asked to do, what it reports while it runs, and what it returns."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.input_checks import check_rate, check_replication_factor, check_seconds, check_topic_name
from kafka_sre_tui.engine.jobs import Checkpointed, Retrying
from kafka_sre_tui.engine.restore.offsets import GroupCommit
from kafka_sre_tui.engine.target.checks import Check


def default_state_dir() -> Path:
    return Path(os.environ.get("XDG_STATE_HOME") or "~/.local/state").expanduser() / "kafka-sre-tui" / "migrations"


@dataclass(frozen=True)
class MigrateRequest:
    source_topic: str
    target_topic: str | None = None  # default: the source topic's name
    partitions: tuple[int, ...] | None = None  # source partitions; default all
    partition_map: dict[int, int] | None = None  # source partition -> target partition
    follow: bool = False  # keep mirroring until cancelled
    catch_up: bool = False  # copy up to the source's end offsets of now (not those captured at the start)
    groups: tuple[str, ...] | None = None  # None: no offsets; (): every group with commits on the source topic
    rate_limit_mb_s: float | None = None
    create_topic: bool = False
    replication_factor: int | None = None
    force: bool = False  # write into a non-empty target; let group offsets move backwards
    checkpoint_seconds: float = 1.0
    state_dir: Path = field(default_factory=default_state_dir)
    compression: str | None = None

    @property
    def target(self) -> str:
        return self.target_topic or self.source_topic


def validate(request: MigrateRequest) -> None:
    if request.rate_limit_mb_s is not None:
        check_rate("--rate-limit", request.rate_limit_mb_s)
    if request.replication_factor is not None:
        check_replication_factor(request.replication_factor)
    check_seconds("--checkpoint-seconds", request.checkpoint_seconds)
    check_topic_name(request.source_topic, "--source-topic")
    if request.target_topic is not None:
        check_topic_name(request.target_topic, "--target-topic")
    if request.follow and request.catch_up:
        raise ConfigError("--follow mirrors until stopped; catch-up stops at the end offsets of now: pick one")
    mapping = request.partition_map or {}
    if len(set(mapping.values())) != len(mapping):
        raise ConfigError("--partition-map must send each partition to its own target partition: merging "
                          "partitions would mix their order")


@dataclass(frozen=True)
class MigrateStarted:
    """The plan, printed before the first record: what was checked, where each partition goes."""

    source: str  # cluster/topic
    target: str
    resumed: bool
    state_path: Path
    checks: tuple[Check, ...]
    partitions: tuple[tuple[int, int, int, int], ...]  # (source partition, target partition, from, to or -1)
    skipped_on_resume: tuple[tuple[int, int], ...] = ()  # (source partition, found written after the checkpoint)


@dataclass(frozen=True)
class MigrateProgress:
    records: int  # written by this run
    bytes_written: int
    elapsed_seconds: float
    lag_records: int  # source records (up to its last stable offset) not yet acknowledged by the target
    lag_seconds: float  # age of the oldest record not yet copied (0 when caught up)
    partitions_done: int
    partitions_total: int
    following: bool

    @property
    def mb_per_second(self) -> float:
        return self.bytes_written / 1e6 / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def records_per_second(self) -> float:
        return self.records / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


MigrateEvent = MigrateStarted | MigrateProgress | Checkpointed | Retrying
Emit = Callable[[MigrateEvent], None]


def ignore(_: MigrateEvent) -> None:
    return None


@dataclass(frozen=True)
class MigrateMetrics:
    duration_seconds: float
    records: int
    bytes_written: int
    throughput_mb_s: float
    records_per_second: float
    skipped_on_resume: int


@dataclass(frozen=True)
class PartitionCopy:
    partition: int
    target_partition: int
    source_start: int
    source_position: int  # next source offset to copy
    target_start: int
    records: int  # in the target partition from this migration, over every run
    offset_map: tuple[tuple[int, int, int], ...]  # (source first, target first, count)


@dataclass(frozen=True)
class MigrateResult:
    source: str
    target: str
    partitions: tuple[PartitionCopy, ...]
    metrics: MigrateMetrics
    lag_records: int  # at the end, against the source's last stable offsets
    groups: tuple[GroupCommit, ...]
    state_path: Path

    @property
    def groups_not_committed(self) -> list[GroupCommit]:
        return [g for g in self.groups if not g.committed]
