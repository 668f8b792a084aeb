"""Read records back from a backup: what restore writes and what tests compare with Kafka."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aiokafka.record.default_records import DefaultRecordBatch

from kafka_sre_tui.engine.storage.batches import split_batches
from kafka_sre_tui.engine.storage.blocks import FRAME_SIZE, BlockError, BlockInfo, decode_frame, decode_payload
from kafka_sre_tui.engine.storage.manifest import PartitionManifest


@dataclass(frozen=True, slots=True)
class StoredRecord:
    offset: int
    timestamp: int
    timestamp_type: int  # 0 CreateTime, 1 LogAppendTime
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]


def read_block(handle: object, block: BlockInfo) -> bytes:
    """The raw record batches of one indexed block, checked against its frame and CRC."""
    handle.seek(block.position)  # type: ignore[attr-defined]
    frame = handle.read(FRAME_SIZE)  # type: ignore[attr-defined]
    info, codec = decode_frame(frame, block.position)
    if info != block:
        raise BlockError(f"block header at byte {block.position} disagrees with the manifest")
    return decode_payload(info, codec, handle.read(info.stored_length))  # type: ignore[attr-defined]


def iter_records(backup_dir: Path, part: PartitionManifest, start: int | None = None,
                 end: int | None = None) -> Iterator[StoredRecord]:
    """Records of one partition in offset order, limited to the backup's range and [start, end)."""
    lo = max(part.start_offset, start if start is not None else part.start_offset)
    hi = min(part.end_offset, end if end is not None else part.end_offset)
    for segment in part.segments:
        if segment.last_offset < lo or segment.first_offset >= hi:
            continue
        with open(backup_dir / segment.file, "rb") as handle:
            for block in segment.blocks:
                if block.last_offset < lo or block.first_offset >= hi:
                    continue
                for header, view in split_batches(read_block(handle, block)):
                    if header.last_offset < lo or header.base_offset >= hi:
                        continue
                    batch = DefaultRecordBatch(bytes(view))
                    ts_type = batch.timestamp_type
                    for rec in batch:
                        if lo <= rec.offset < hi:
                            yield StoredRecord(rec.offset, rec.timestamp, ts_type, rec.key, rec.value,
                                               tuple(rec.headers))
