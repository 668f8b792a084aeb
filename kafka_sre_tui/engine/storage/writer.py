"""Writes one partition's record batches into segment files of compressed blocks.

Nothing is durable until :meth:`PartitionWriter.checkpoint`: it seals the open block and segment
(fsync and rename on disk; the completed upload on an object store) and returns what is now stored;
the caller then records its progress. A crash before that leaves only a ``.tmp`` file (on disk), which
resume deletes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import partial

from kafka_sre_tui.engine.kafka.batches import BatchHeader
from kafka_sre_tui.engine.storage.blocks import BlockInfo, encode_block
from kafka_sre_tui.engine.storage.codecs import Codec
from kafka_sre_tui.engine.storage.encryption import BackupCipher
from kafka_sre_tui.engine.storage.store import Location, SegmentSink

BLOCK_TARGET_BYTES = 1 << 20
SEGMENT_TARGET_BYTES = 64 << 20
SEGMENT_SUFFIX = ".kseg"


@dataclass(frozen=True)
class SegmentInfo:
    file: str  # relative to the backup directory
    size: int
    sha256: str
    first_offset: int
    last_offset: int
    records: int
    raw_bytes: int
    blocks: tuple[BlockInfo, ...]


@dataclass
class _OpenSegment:
    file: str  # relative to the backup directory
    sink: SegmentSink
    digest: hashlib._Hash
    size: int = 0
    blocks: list[BlockInfo] = field(default_factory=list)


class PartitionWriter:
    def __init__(self, backup_dir: Location, partition: int, codec: Codec, level: int | None,
                 cipher: BackupCipher | None = None, name_tag: str = "") -> None:
        self.backup_dir = backup_dir
        self.name_tag = name_tag  # in segment names: a workers group's owner generation, so owners never collide
        self._seal = partial(cipher.seal, partition) if cipher else None
        self.relative = f"partitions/{partition}"
        self.folder = backup_dir / "partitions" / str(partition)
        self.folder.make_dirs()
        self.codec, self.level = codec, level
        self._pending = bytearray()
        self._pending_headers: list[BatchHeader] = []
        self._segment: _OpenSegment | None = None
        self.bytes_written = 0

    def append(self, header: BatchHeader, batch: memoryview) -> None:
        self._pending += batch
        self._pending_headers.append(header)
        if len(self._pending) >= BLOCK_TARGET_BYTES:
            self._seal_block()

    def checkpoint(self) -> SegmentInfo | None:
        """Make everything appended so far durable; the finished segment, if any."""
        self._seal_block()
        segment, self._segment = self._segment, None
        if segment is None:
            return None
        segment.sink.commit()
        blocks = tuple(segment.blocks)
        return SegmentInfo(
            file=segment.file, size=segment.size,
            sha256=segment.digest.hexdigest(), first_offset=blocks[0].first_offset,
            last_offset=blocks[-1].last_offset, records=sum(b.records for b in blocks),
            raw_bytes=sum(b.raw_length for b in blocks), blocks=blocks)

    def abort(self) -> None:
        if self._segment is not None:
            self._segment.sink.abort()
        self._segment = None

    def _seal_block(self) -> None:
        if not self._pending_headers:
            return
        headers = self._pending_headers
        segment = self._segment or self._open_segment(headers[0].base_offset)
        frame, stored, info = encode_block(
            bytes(self._pending), self.codec, self.level, headers[0].base_offset, headers[-1].last_offset,
            min(h.first_timestamp for h in headers), max(h.max_timestamp for h in headers),
            sum(h.record_count for h in headers), len(headers), segment.size, self._seal)
        for part in (frame, stored):
            segment.sink.write(part)
            segment.digest.update(part)
        segment.size += len(frame) + len(stored)
        segment.blocks.append(info)
        self.bytes_written += len(frame) + len(stored)
        self._pending = bytearray()
        self._pending_headers = []
        self._segment = segment  # past SEGMENT_TARGET_BYTES the caller checkpoints, which closes it

    def _open_segment(self, first_offset: int) -> _OpenSegment:
        name = f"{first_offset:020d}{self.name_tag}{SEGMENT_SUFFIX}"
        sink = (self.folder / name).create_segment()  # committed in checkpoint
        self._segment = _OpenSegment(f"{self.relative}/{name}", sink, hashlib.sha256())
        return self._segment

    @property
    def segment_size(self) -> int:
        return self._segment.size if self._segment else 0

    @property
    def buffered_bytes(self) -> int:
        """Batches appended to the open block, held in memory until it is sealed."""
        return len(self._pending)
