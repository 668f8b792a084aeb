"""What a set restore reports: one preflight for the whole set, progress per topic and overall, each
topic as it is done, and the result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kafka_sre_tui.engine.jobs import Checkpointed, Progress, Retrying
from kafka_sre_tui.engine.restore.events import Resumed
from kafka_sre_tui.engine.restore.offsets import GroupCommit
from kafka_sre_tui.engine.restore.preflight import Preflight
from kafka_sre_tui.engine.target.checks import FAIL, Check


@dataclass(frozen=True)
class LostRange:
    """Offsets [start, end) of a partition that retention deleted before the link ``set_id`` read them."""

    set_id: str
    partition: int
    start: int
    end: int

    def describe(self, topic: str) -> str:
        return (f"{topic} partition {self.partition}: offsets {self.start}-{self.end - 1} ({self.end - self.start:,} "
                f"offsets) were deleted by retention before link {self.set_id} backed them up; restored as a hole")


@dataclass(frozen=True)
class TopicPreflight:
    source: str
    target: str
    links: tuple[str, ...]  # the set ids its records come from, oldest first
    restarted: str | None  # why its records start at a later link than the base
    preflight: Preflight  # the one-topic restore's checks, over the records of every link
    lost: tuple[LostRange, ...] = ()  # holes retention left between links, restored as holes


@dataclass(frozen=True)
class SetPreflight:
    set_id: str
    cluster: str
    links: tuple[str, ...]  # every link read, base first
    to_time_ms: int | None
    topics: tuple[TopicPreflight, ...]
    checks: tuple[Check, ...]  # about the set as a whole (the groups)

    @property
    def failures(self) -> list[tuple[str, Check]]:
        """(where, check) of every failed check: the topic, or "set"."""
        found = [("set", c) for c in self.checks if c.level == FAIL]
        return found + [(t.source, c) for t in self.topics for c in t.preflight.failures]

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def records(self) -> int:
        return sum(t.preflight.records for t in self.topics)

    @property
    def bytes(self) -> int:
        return sum(t.preflight.bytes for t in self.topics)


@dataclass(frozen=True, kw_only=True)
class SetRestoreProgress(Progress):
    """Overall figures (records and bytes written by this run, offsets of every topic), and the topic
    being written now. ``partitions_*`` count the topics' partitions."""

    set_id: str
    topic: str
    topic_fraction: float
    topics_done: int
    topics_total: int


@dataclass(frozen=True)
class SetPartitionOutcome:
    partition: int
    target_start: int  # the target partition's end before the first link was written
    target_end: int  # after the last one
    records: int  # written into it by this restore, over every link and run
    skipped_on_resume: int
    offset_map: tuple[tuple[int, int, int], ...]  # (source first, target first, count), every link


@dataclass(frozen=True)
class TopicRestored:
    source: str
    target: str
    links: tuple[str, ...]
    restarted: str | None
    partitions: tuple[SetPartitionOutcome, ...]
    messages: int  # written by this run
    lost: tuple[LostRange, ...] = ()

    @property
    def records(self) -> int:
        return sum(p.records for p in self.partitions)


@dataclass(frozen=True)
class TopicGroupCommit:
    topic: str  # the target topic
    commit: GroupCommit


@dataclass(frozen=True)
class SetRestoreMetrics:
    duration_seconds: float
    messages: int  # written by this run
    bytes_written: int
    throughput_mb_s: float
    skipped_on_resume: int


@dataclass(frozen=True)
class SetRestoreResult:
    set_id: str
    cluster: str
    dry_run: bool
    links: tuple[str, ...]
    preflight: SetPreflight | None  # None when resumed
    topics: tuple[TopicRestored, ...]
    groups: tuple[TopicGroupCommit, ...]
    metrics: SetRestoreMetrics | None
    state_path: Path | None

    @property
    def groups_not_committed(self) -> list[TopicGroupCommit]:
        return [g for g in self.groups if not g.commit.committed]


SetRestoreEvent = SetPreflight | SetRestoreProgress | TopicRestored | Resumed | Checkpointed | Retrying
SetEmit = Callable[[SetRestoreEvent], None]


def ignore(_: SetRestoreEvent) -> None:
    return None
