"""One partition's share of a backup: keep the batches in range, count, track gaps, checkpoint.

Runs in a worker thread (compression releases the GIL), one call at a time per partition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from aiokafka.record.default_records import DefaultRecordBatch

from kafka_sre_tui.engine.backup.plan import PartitionPlan
from kafka_sre_tui.engine.kafka.batches import BatchHeader, split_batches
from kafka_sre_tui.engine.kafka.fetch import FetchedPartition, committed_only
from kafka_sre_tui.engine.storage.codecs import Codec
from kafka_sre_tui.engine.storage.encryption import BackupCipher
from kafka_sre_tui.engine.storage.manifest import segment_from_json
from kafka_sre_tui.engine.storage.store import Location, read_json, write_json
from kafka_sre_tui.engine.storage.writer import SEGMENT_TARGET_BYTES, PartitionWriter, SegmentInfo

MAX_LISTED_GAPS = 1000
STATE_FILE = "state.json"


@dataclass
class PartitionState:
    """Durable progress of one partition: everything before ``next_offset`` is in ``segments``."""

    partition: int
    start_offset: int
    end_offset: int
    next_offset: int
    expected_offset: int  # where the next stored record should start; a later one leaves a gap
    records: int = 0
    raw_bytes: int = 0
    stored_bytes: int = 0
    first_offset: int | None = None
    last_offset: int | None = None
    first_timestamp: int | None = None
    last_timestamp: int | None = None
    gaps: list[tuple[int, int]] = field(default_factory=list)
    gap_count: int = 0
    segments: list[SegmentInfo] = field(default_factory=list)
    owner: dict[str, Any] | None = None  # a workers group's {"worker", "generation"} (see .workers_fence)

    @property
    def done(self) -> bool:
        return self.next_offset >= self.end_offset

    @classmethod
    def fresh(cls, plan: PartitionPlan) -> PartitionState:
        return cls(plan.partition, plan.start_offset, plan.end_offset, plan.start_offset, plan.start_offset)

    @classmethod
    def load(cls, path: Location) -> PartitionState:
        return cls.from_json(read_json(path))

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> PartitionState:
        doc["segments"] = [segment_from_json(s) for s in doc["segments"]]
        doc["gaps"] = [tuple(g) for g in doc["gaps"]]
        return cls(**doc)

    def add_gap(self, start: int, end: int) -> None:
        if end <= start:
            return
        self.gap_count += 1
        if len(self.gaps) < MAX_LISTED_GAPS:
            self.gaps.append((start, end))


class PartitionBackup:
    def __init__(self, folder: Location, state: PartitionState, codec: Codec, level: int | None,
                 max_messages: int | None, cipher: BackupCipher | None = None,
                 save_state: Callable[[Location, Any], None] = write_json, segment_tag: str = "") -> None:
        self.folder = folder
        self.save_state = save_state  # a workers group's fenced write: raises once another worker owns it
        self.state = state
        self.position = state.next_offset  # fetched up to here; durable only up to state.next_offset
        self.max_messages = max_messages
        self.writer = PartitionWriter(folder, state.partition, codec, level, cipher, segment_tag)
        self._pending = _Pending(state)
        self._saved = False  # state.json holds self.state (written by this run)

    @property
    def done(self) -> bool:
        return self.position >= self._pending.end_offset or (
            self.max_messages is not None and self._pending.records >= self.max_messages)

    @property
    def end_offset(self) -> int:
        return self._pending.end_offset

    @property
    def records(self) -> int:
        return self._pending.records

    @property
    def raw_bytes(self) -> int:
        return self._pending.raw_bytes

    @property
    def offsets_seen(self) -> int:
        """Offsets this backup has read past, durable or not (what the records read so far span)."""
        return max(0, self._pending.expected_offset - self.state.start_offset)

    @property
    def needs_checkpoint(self) -> bool:
        return self.writer.segment_size >= SEGMENT_TARGET_BYTES

    @property
    def holds_unsealed(self) -> bool:
        """An open block in memory or an open segment file: what a checkpoint releases."""
        return self.writer.buffered_bytes > 0 or self.writer.segment_size > 0

    def process(self, fetched: FetchedPartition) -> int:
        """Store the batches in range from one fetch; returns the records stored."""
        batches = list(split_batches(fetched.records))
        pending = self._pending
        before = pending.records
        for header, view in committed_only(batches, fetched.aborted):
            if header.next_offset <= pending.expected_offset or header.next_offset <= self.position:
                continue
            if header.base_offset >= pending.end_offset:
                break
            in_range = self._in_range(header, view)
            if in_range is None:
                continue
            first, last, count = in_range
            pending.add_gap(pending.expected_offset, first)
            pending.expected_offset = last + 1
            pending.records += count
            pending.raw_bytes += header.length
            pending.first_offset = first if pending.first_offset is None else pending.first_offset
            pending.last_offset = last
            if pending.first_timestamp is None:
                pending.first_timestamp = header.first_timestamp
            pending.last_timestamp = header.max_timestamp
            self.writer.append(header, view)
        if batches:
            self.position = max(self.position, batches[-1][0].next_offset)
        return pending.records - before

    def skip_to(self, offset: int) -> None:
        """Retention removed records before ``offset`` while the backup ran: note the gap, go on."""
        self.position = max(self.position, offset)

    def _in_range(self, header: BatchHeader, view: memoryview) -> tuple[int, int, int] | None:
        """First and last offset and count of the batch's records in range (None: no record).
        Only a batch that straddles a bound (or the --max-messages cap) is decoded."""
        pending = self._pending
        lo, hi = pending.expected_offset, pending.end_offset
        room = None if self.max_messages is None else self.max_messages - pending.records
        if header.base_offset >= lo and header.last_offset < hi and (room is None or header.record_count < room):
            return header.base_offset, header.last_offset, header.record_count
        offsets = [r.offset for r in DefaultRecordBatch(bytes(view)) if lo <= r.offset < hi]
        if room is not None and len(offsets) >= room:
            offsets = offsets[:room]
            pending.end_offset = offsets[-1] + 1 if offsets else lo
        return (offsets[0], offsets[-1], len(offsets)) if offsets else None

    def checkpoint(self) -> None:
        """Make everything processed durable and record it (segment first, then state.json)."""
        segment = self.writer.checkpoint()
        pending = self._pending
        if segment is not None:
            pending.segments.append(segment)
            pending.stored_bytes += segment.size
        if self.done:
            pending.add_gap(pending.expected_offset, pending.end_offset)
            pending.expected_offset = max(pending.expected_offset, pending.end_offset)
        pending.next_offset = self.position
        state = pending.snapshot()
        if self._saved and state == self.state:
            return  # nothing new since the last checkpoint: no write (a set seals thousands of partitions)
        self.state = state
        folder = self.folder / "partitions" / str(self.state.partition)
        folder.make_dirs()
        self.save_state(folder / STATE_FILE, asdict(self.state))
        self._saved = True


class _Pending(PartitionState):
    """The state including what is not durable yet."""

    def __init__(self, state: PartitionState) -> None:
        super().__init__(**{**asdict(state), "gaps": list(state.gaps), "segments": list(state.segments)})

    def snapshot(self) -> PartitionState:
        return PartitionState(**{**asdict(self), "gaps": list(self.gaps), "segments": list(self.segments)})
