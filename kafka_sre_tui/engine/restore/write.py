"""The writing part of a restore: read each partition's records from the backup, write them with the
topic writer, checkpoint durably, report progress. Also what a resumed run does first: count what a
killed run wrote after its last checkpoint and skip exactly that.

Fast path: a stored batch that lies wholly inside the range is sent as it is stored (its records
are not decoded or encoded again; see ``storage.batches.client_header``) when the broker takes it
from a client as it is and it keeps every record as the per-record path would: consecutive offsets,
CreateTime, no log cleaner marks (``BatchHeader.resendable``), within the target's batch size, with
the records' own timestamps and no other compression asked for. Everything else (batches a range
cuts, compacted batches with holes, LogAppendTime batches, ``--new-timestamps``) is re-encoded
record by record, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.jobs import Checkpointed
from kafka_sre_tui.engine.kafka.batches import CODEC_NAMES, BatchHeader, RawBatch
from kafka_sre_tui.engine.kafka.topic_writer import TargetChanged, TopicWriter, WriterSettings, record_bytes
from kafka_sre_tui.engine.restore.events import Emit, PartitionOutcome, RestoreMetrics, RestoreProgress
from kafka_sre_tui.engine.restore.state import PartitionProgress, save_partition
from kafka_sre_tui.engine.storage.manifest import PartitionManifest
from kafka_sre_tui.engine.storage.reader import StoredRecord, iter_records, iter_whole_or_records
from kafka_sre_tui.engine.storage.store import Location

CHUNK_BYTES = 1 << 20  # records read from the backup at a time, per partition
PARTITIONS_AT_ONCE = 16  # bounds memory: each holds a chunk, a batch being filled and one in flight


def skip_written(folder: Location, part: PartitionManifest, progress: PartitionProgress, extra: int) -> None:
    """A killed run wrote ``extra`` records after its last checkpoint (the target's end offset says so):
    they are the next ``extra`` records of the backup, at the next target offsets. Count them as
    written, so the resumed run writes each record once."""
    if extra <= 0:
        return
    taken = [r.offset for r in islice(iter_records(folder, part, progress.source_position,
                                                   progress.selection.end), extra)]
    if len(taken) < extra:
        raise TargetChanged(f"target partition {progress.selection.target_partition} holds {extra} more records than "
                            f"the restore checkpointed, but only {len(taken)} were left to write: something else "
                            "wrote into it; restore into a new topic")
    progress.record_written(taken, progress.target_next)
    progress.skipped_on_resume += extra
    progress.done = progress.source_position >= progress.selection.end


def sendable_as_stored(settings: WriterSettings) -> Callable[[BatchHeader], bool]:
    """Which whole stored batches the writer sends as they are stored (see the module docstring)."""
    def sendable(header: BatchHeader) -> bool:
        return (settings.keep_timestamps and header.resendable and header.length <= settings.max_batch_bytes
                and settings.compression in (None, CODEC_NAMES[header.codec]))
    return sendable


def _take(items: Iterator[RawBatch | StoredRecord], max_bytes: int) -> list[RawBatch | StoredRecord]:
    chunk: list[RawBatch | StoredRecord] = []
    size = 0
    for item in items:
        chunk.append(item)
        size += len(item.data) if isinstance(item, RawBatch) else record_bytes(item)
        if size >= max_bytes:
            break
    return chunk


class _Tracker:
    def __init__(self, backup_id: str, topic: str, progress: list[PartitionProgress], emit: Emit) -> None:
        self.backup_id, self.topic, self.progress, self.emit = backup_id, topic, progress, emit
        self.started = time.monotonic()
        self.initial = sum(p.written for p in progress)
        self.bytes = 0
        self._last = 0.0

    def snapshot(self) -> RestoreProgress:
        ps = self.progress
        return RestoreProgress(
            backup_id=self.backup_id, topic=self.topic, records=sum(p.written for p in ps) - self.initial,
            bytes=self.bytes,
            offsets_done=sum(min(p.source_position, p.selection.end) - p.selection.start for p in ps),
            offsets_total=sum(p.selection.end - p.selection.start for p in ps),
            elapsed_seconds=time.monotonic() - self.started, partitions_done=sum(p.done for p in ps),
            partitions_total=len(ps))

    def maybe_emit(self, force: bool = False) -> None:
        if force or time.monotonic() - self._last >= 0.25:
            self._last = time.monotonic()
            self.emit(self.snapshot())


async def checkpoint(folder: Path, progress: list[PartitionProgress], seen: dict[int, str]) -> None:
    """Make each changed partition's progress durable (snapshotted here, written in a thread)."""
    docs = []
    for p in progress:
        doc = p.to_json()
        key = f"{p.written}/{p.source_position}/{p.done}/{p.skipped_on_resume}"
        if seen.get(p.selection.partition) != key:
            docs.append(doc)
            seen[p.selection.partition] = key
    if docs:
        await asyncio.to_thread(_save_all, folder, docs, next(_snapshots))


_snapshots = itertools.count()
_saving = threading.Lock()
_saved: dict[tuple[Path, int], int] = {}  # (state folder, partition) -> the snapshot on disk


def _save_all(folder: Path, docs: list[dict[str, Any]], snapshot: int) -> None:
    """Checkpoints can overlap: a cancelled ticker's thread may still be writing when the final
    checkpoint starts (two threads renaming the same .tmp file failed a restore). One writer at a
    time, and never a partition's older progress over a newer one."""
    with _saving:
        for doc in docs:
            key = (folder, doc["selection"]["partition"])
            if _saved.get(key, -1) < snapshot:
                save_partition(folder, doc)
                _saved[key] = snapshot


async def write_all(cluster: ClusterConfig, topic: str, backup_folder: Location, parts: dict[int, PartitionManifest],
                    progress: list[PartitionProgress], settings: WriterSettings, state_folder: Path,
                    checkpoint_seconds: float, backup_id: str, emit: Emit) -> RestoreMetrics:
    by_target = {p.selection.target_partition: p for p in progress}
    tracker = _Tracker(backup_id, topic, progress, emit)
    seen: dict[int, str] = {}
    as_stored = sendable_as_stored(settings)

    def on_written(target_partition: int, offsets: list[int], base: int) -> None:
        by_target[target_partition].record_written(offsets, base)

    async def checkpoints() -> None:
        while True:
            await asyncio.sleep(checkpoint_seconds)
            await checkpoint(state_folder, progress, seen)
            emit(Checkpointed())

    async def copy(p: PartitionProgress, writer: TopicWriter, limit: asyncio.Semaphore) -> None:
        async with limit:
            target = p.selection.target_partition
            items = iter_whole_or_records(backup_folder, parts[p.selection.partition], p.source_position,
                                          p.selection.end, as_stored)
            writer.expect(target, p.target_next)
            while chunk := await asyncio.to_thread(_take, items, CHUNK_BYTES):
                for item in chunk:
                    if isinstance(item, RawBatch):
                        await writer.write_batch(target, item)
                    else:
                        await writer.write(target, item)
                tracker.bytes = writer.bytes_submitted
                tracker.maybe_emit()
            await writer.flush(target)
            p.source_position, p.done = p.selection.end, True

    ticker = asyncio.create_task(checkpoints())
    started = time.monotonic()
    try:
        async with TopicWriter(cluster, topic, settings, on_written) as writer:
            limit = asyncio.Semaphore(PARTITIONS_AT_ONCE)
            await asyncio.gather(*(copy(p, writer, limit) for p in progress if not p.done))
        tracker.bytes = writer.bytes_submitted
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        await asyncio.shield(checkpoint(state_folder, progress, seen))
    emit(Checkpointed())
    tracker.maybe_emit(force=True)
    seconds = time.monotonic() - started
    done = tracker.snapshot()
    return RestoreMetrics(
        duration_seconds=round(seconds, 3), messages=done.records, bytes_written=done.bytes,
        throughput_mb_s=round(done.bytes / 1e6 / seconds, 2) if seconds > 0 else 0.0,
        records_per_second=round(done.records / seconds, 1) if seconds > 0 else 0.0,
        skipped_on_resume=sum(p.skipped_on_resume for p in progress))


def outcomes(progress: list[PartitionProgress]) -> tuple[PartitionOutcome, ...]:
    return tuple(PartitionOutcome(
        p.selection.partition, p.selection.target_partition, p.selection.start, p.selection.end, p.target_start,
        p.written, p.skipped_on_resume, tuple(p.map.runs)) for p in progress)
