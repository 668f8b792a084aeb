"""Read the range with the records engine, write each kept record to the same partition of the
target with the faithful writer (keys, values, headers and timestamps kept), audit-log the run.

A range that starts at a group's committed offsets (``--group``: what the group has not read yet) is
refused while the group has active members: they move those offsets, and they would read the same
records the replay copies, so what gets copied is neither what the group skipped nor what it read."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.audit import FAILED, OK, REFUSED, audit
from kafka_sre_tui.engine.errors import ConfigError, KsreError
from kafka_sre_tui.engine.group_offsets.execute import OffsetsRefused, active_members_text
from kafka_sre_tui.engine.group_offsets.reset import group_or_empty
from kafka_sre_tui.engine.input_checks import check_rate
from kafka_sre_tui.engine.jobs import Progress
from kafka_sre_tui.engine.kafka.metadata import partition_leaders
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.kafka.topic_writer import TopicWriter, WriterSettings
from kafka_sre_tui.engine.records.model import Record
from kafka_sre_tui.engine.records.query import RecordQuery
from kafka_sre_tui.engine.records.read import PartitionRange, ReadEnd, read_records

PROGRESS_EVERY_SECONDS = 0.5


@dataclass(frozen=True)
class ReplayRequest:
    source: RecordQuery  # its ``limit`` caps the records copied (None: the whole range)
    target_topic: str
    target: ClusterConfig  # the source's cluster or another
    execute: bool = False
    rate_limit_mb_s: float | None = None
    keep_timestamps: bool = True

    def __post_init__(self) -> None:
        if self.rate_limit_mb_s is not None:
            check_rate("--rate-limit", self.rate_limit_mb_s)


@dataclass(frozen=True)
class PartitionCopy:
    partition: int
    records: int
    first_offset: int | None
    last_offset: int | None


@dataclass(frozen=True)
class ReplayResult:
    dry_run: bool
    records: int
    bytes: int  # keys, values and headers
    scanned: int
    elapsed_seconds: float
    partitions: tuple[PartitionCopy, ...]
    notes: tuple[str, ...] = field(default=())


async def replay(source: KafkaSession, target: KafkaSession, request: ReplayRequest,
                 emit: Callable[[Progress], None] = lambda _p: None,
                 clock: Callable[[], float] = time.monotonic) -> ReplayResult:
    if request.execute:
        await check_replay(source, target, request)
    started, last_emit = clock(), clock()
    counts: dict[int, list[int]] = {}  # partition -> [records, first, last]
    ranges: dict[int, PartitionRange] = {}

    def planned(found: tuple[PartitionRange, ...]) -> None:
        ranges.update((r.partition, r) for r in found if r.end > r.start)
    size = 0
    end: ReadEnd | None = None
    settings = WriterSettings(rate_limit_mb_s=request.rate_limit_mb_s, keep_timestamps=request.keep_timestamps)
    try:
        async with contextlib.AsyncExitStack() as stack:
            writer = await stack.enter_async_context(TopicWriter(
                request.target, request.target_topic, settings, lambda _p, _o, _b: None)) if request.execute else None
            async for item in read_records(source, request.source, planned):
                if isinstance(item, ReadEnd):
                    end = item
                    break
                if writer is not None:
                    await writer.write(item.partition, item)
                _count(counts, item)
                size += item.size
                if clock() - last_emit >= PROGRESS_EVERY_SECONDS:
                    last_emit = clock()
                    emit(_progress(counts, ranges, size, clock() - started))
    except BaseException as exc:
        if request.execute:
            _audit(request, FAILED, counts, str(exc) if isinstance(exc, KsreError) else type(exc).__name__)
        raise
    if request.execute:
        _audit(request, OK, counts)
    emit(_progress(counts, ranges, size, clock() - started, done=True))
    partitions = tuple(PartitionCopy(p, c[0], c[1], c[2]) for p, c in sorted(counts.items()))
    return ReplayResult(not request.execute, sum(c[0] for c in counts.values()), size,
                        end.scanned if end else 0, clock() - started, partitions, end.notes if end else ())


def _count(counts: dict[int, list[int]], record: Record) -> None:
    entry = counts.setdefault(record.partition, [0, record.offset, record.offset])
    entry[0] += 1
    entry[2] = record.offset


def _progress(counts: dict[int, list[int]], ranges: dict[int, PartitionRange], size: int, elapsed: float,
              done: bool = False) -> Progress:
    """Offsets reached (up to the last record copied of each partition) of the offsets in range."""
    total = sum(r.end - r.start for r in ranges.values())
    reached = {p: min(c[2] + 1, ranges[p].end) - ranges[p].start for p, c in counts.items() if p in ranges}
    finished = sum(1 for p, n in reached.items() if n >= ranges[p].end - ranges[p].start)
    return Progress(records=sum(c[0] for c in counts.values()), bytes=size, elapsed_seconds=elapsed,
                    offsets_done=total if done else sum(reached.values()), offsets_total=total,
                    partitions_done=len(ranges) if done else finished, partitions_total=len(ranges))


async def check_replay(source: KafkaSession, target: KafkaSession, request: ReplayRequest) -> None:
    """What an execution checks before writing: the target (read_only, the same topic, enough
    partitions) and, for a range from a group's committed offsets, that the group has no active member."""
    await _check_target(source, target, request)
    group = request.source.group
    if group is None:
        return
    now = await group_or_empty(source, group)
    if now.members:
        error = (f"group '{group}' on cluster '{source.cluster.name}' has {active_members_text(now)}; stop them "
                 "first (a replay from a group's committed offsets needs a group with no active members)")
        _audit(request, REFUSED, {}, error)
        raise OffsetsRefused(error)


async def _check_target(source: KafkaSession, target: KafkaSession, request: ReplayRequest) -> None:
    if request.target.read_only:
        error = (f"cluster '{request.target.name}' is read_only in {request.target.source}: refusing to replay "
                 f"into it; pick another --target-cluster or set read_only = false")
        _audit(request, REFUSED, {}, error)
        raise ConfigError(error)
    if request.target.name == source.cluster.name and request.target_topic == request.source.topic:
        raise ConfigError("--target-topic is the source topic: a replay into itself would read what it writes")
    meta = await target.metadata_object([request.target_topic])
    for t in meta["topics"]:
        target.raise_for_code(t["error_code"], f"reading target topic '{request.target_topic}'")
    target_partitions = {tp.partition for tp in partition_leaders(meta)}
    source_meta = await source.metadata_object([request.source.topic])
    wanted = request.source.partitions or tuple(tp.partition for tp in partition_leaders(source_meta))
    missing = sorted(set(wanted) - target_partitions)
    if missing:
        raise ConfigError(f"target topic '{request.target_topic}' has {len(target_partitions)} partitions; records "
                          f"of partition(s) {', '.join(map(str, missing))} go to the same partition number; "
                          "choose --partitions or a topic with as many partitions")


def _audit(request: ReplayRequest, result: str, counts: dict[int, list[int]], error: str | None = None) -> None:
    q = request.source
    audit("replay", cluster=request.target.name, result=result, topic=request.target_topic, parameters={
        "source_topic": q.topic, "partitions": q.partitions, "group": q.group, "from_offset": q.offset,
        "to_offset": q.to_offset,
        "from_time_ms": q.time_ms, "to_time_ms": q.to_time_ms, "keep_timestamps": request.keep_timestamps,
        "records": {p: c[0] for p, c in counts.items()}}, error=error)
