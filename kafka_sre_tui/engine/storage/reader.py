"""Read records back from a backup: what restore writes and what tests compare with Kafka."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from aiokafka.record.default_records import DefaultRecordBatch

from kafka_sre_tui.engine.kafka.batches import BatchHeader, RawBatch, split_batches
from kafka_sre_tui.engine.storage.blocks import FRAME_SIZE, BlockError, BlockInfo, Seal, decode_frame, decode_payload
from kafka_sre_tui.engine.storage.encryption import cipher_of
from kafka_sre_tui.engine.storage.manifest import PartitionManifest, segment_path
from kafka_sre_tui.engine.storage.store import Location, ReadHandle, open_location


@dataclass(frozen=True, slots=True)
class StoredRecord:
    offset: int
    timestamp: int
    timestamp_type: int  # 0 CreateTime, 1 LogAppendTime
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]


def read_block(handle: ReadHandle, size: int, block: BlockInfo, unseal: Seal | None = None) -> bytes:
    """The raw record batches of one indexed block of a file of ``size`` bytes, checked against its
    frame and CRC (and opened with ``unseal`` in an encrypted backup)."""
    handle.seek(block.position)
    frame = handle.read(FRAME_SIZE)
    info, codec = decode_frame(frame, block.position, encrypted=unseal is not None)
    if info != block:
        raise BlockError(f"block header at byte {block.position} disagrees with the manifest")
    left = size - block.position - FRAME_SIZE
    if info.stored_length > left:  # a length claiming gigabytes is never allocated
        raise BlockError(f"block at byte {block.position} claims {info.stored_length} bytes, the file holds {left}")
    return decode_payload(info, codec, handle.read(info.stored_length), unseal)


def bounds(part: PartitionManifest, start: int | None = None, end: int | None = None) -> tuple[int, int]:
    """[start, end) limited to the backup's range of the partition."""
    lo = max(part.start_offset, start if start is not None else part.start_offset)
    hi = min(part.end_offset, end if end is not None else part.end_offset)
    return lo, hi


def iter_batches(backup_dir: Location | Path, part: PartitionManifest, start: int | None = None,
                 end: int | None = None) -> Iterator[tuple[BatchHeader, memoryview]]:
    """The stored batches that hold offsets of [start, end) (within the backup's range), in offset
    order. A batch may also hold records outside it: see :func:`records_of`."""
    lo, hi = bounds(part, start, end)
    backup_dir = open_location(backup_dir)
    cipher = cipher_of(backup_dir)
    unseal = partial(cipher.open, part.partition) if cipher else None
    for segment in part.segments:
        if segment.last_offset < lo or segment.first_offset >= hi:
            continue
        path = segment_path(backup_dir, segment.file)
        try:
            size = path.size()
        except OSError as exc:
            raise BlockError(f"segment {segment.file} of partition {part.partition} cannot be read "
                             f"({exc.strerror or exc}): the backup is damaged; kafka-sre-tui verify names what is "
                             "missing") from None
        with path.open_read() as handle:
            for block in segment.blocks:
                if block.last_offset < lo or block.first_offset >= hi:
                    continue
                for header, view in split_batches(read_block(handle, size, block, unseal)):
                    if header.last_offset < lo or header.base_offset >= hi:
                        continue
                    yield header, view


def records_of(view: memoryview, lo: int, hi: int) -> Iterator[StoredRecord]:
    """The records of one stored batch with ``lo <= offset < hi``."""
    batch = DefaultRecordBatch(bytes(view))
    ts_type = batch.timestamp_type
    for rec in batch:
        if lo <= rec.offset < hi:
            yield StoredRecord(rec.offset, rec.timestamp, ts_type, rec.key, rec.value, tuple(rec.headers))


def iter_records(backup_dir: Location | Path, part: PartitionManifest, start: int | None = None,
                 end: int | None = None) -> Iterator[StoredRecord]:
    """Records of one partition in offset order, limited to the backup's range and [start, end)."""
    lo, hi = bounds(part, start, end)
    for _header, view in iter_batches(backup_dir, part, lo, hi):
        yield from records_of(view, lo, hi)


def iter_whole_or_records(backup_dir: Location | Path, part: PartitionManifest, start: int | None, end: int | None,
                          whole: Callable[[BatchHeader], bool]) -> Iterator[RawBatch | StoredRecord]:
    """What :func:`iter_records` reads, but a batch that lies wholly inside the range and for which
    ``whole(header)`` holds comes as one :class:`RawBatch` instead of its records."""
    lo, hi = bounds(part, start, end)
    for header, view in iter_batches(backup_dir, part, lo, hi):
        if lo <= header.base_offset and header.last_offset < hi and whole(header):
            yield RawBatch(header, view)
        else:
            yield from records_of(view, lo, hi)
