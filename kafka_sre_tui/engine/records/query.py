"""What to read: a topic, some partitions, where to start and stop, which records to keep, how many."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.input_checks import check_count
from kafka_sre_tui.engine.records.filters import RecordFilter

DEFAULT_LIMIT = 50
DEFAULT_MAX_SCANNED = 1_000_000


@dataclass(frozen=True)
class RecordQuery:
    """Start at most one of ``offset``, ``time_ms`` (the first record at or after it), ``tail`` (the
    last N of each partition) or ``group`` (its committed offsets); none: the earliest offset. Stop at
    ``to_offset``/``to_time_ms`` (inclusive) or else at the last stable offset seen when the read
    starts, after ``limit`` matching records, or after ``max_scanned`` records looked at: a read is
    bounded in time and memory whatever the topic. ``read_committed``: aborted records are left out."""

    topic: str
    partitions: tuple[int, ...] | None = None  # None: all
    offset: int | None = None
    time_ms: int | None = None
    tail: int | None = None
    group: str | None = None
    to_offset: int | None = None
    to_time_ms: int | None = None
    filter: RecordFilter = field(default_factory=RecordFilter)
    limit: int | None = DEFAULT_LIMIT  # None: no limit (replay)
    max_scanned: int | None = DEFAULT_MAX_SCANNED
    read_committed: bool = True

    def __post_init__(self) -> None:
        starts = [name for name, value in (("--offset", self.offset), ("--time", self.time_ms),
                                           ("--tail", self.tail), ("--group", self.group)) if value is not None]
        if len(starts) > 1:
            raise ConfigError(f"choose one start: {' or '.join(starts)}")
        if self.to_offset is not None and self.to_time_ms is not None:
            raise ConfigError("choose one end: --to-offset or --to-time")
        for name, value in (("--offset", self.offset), ("--tail", self.tail), ("--limit", self.limit),
                            ("--to-offset", self.to_offset), ("--max-scanned", self.max_scanned)):
            if value is not None:
                check_count(name, value)
