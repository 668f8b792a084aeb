"""Kafka v2 record batches as the broker sends them: split a fetched buffer into batches by
reading their fixed headers, without decoding records (that is what keeps backup fast)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import crc32c

# baseOffset, batchLength, partitionLeaderEpoch, magic, crc, attributes, lastOffsetDelta,
# firstTimestamp, maxTimestamp, producerId, producerEpoch, baseSequence, recordCount
_HEADER = struct.Struct(">qiibIhiqqqhii")
HEADER_SIZE = _HEADER.size  # 61
_LOG_OVERHEAD = 12  # baseOffset + batchLength precede the part that batchLength counts
_CRC_START = 21  # the CRC-32C covers everything from attributes to the end
_CODEC_MASK = 0x07  # 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
_LOG_APPEND_TIME = 0x08
_TRANSACTIONAL = 0x10
_CONTROL = 0x20
_DELETE_HORIZON = 0x40  # set by the log cleaner: firstTimestamp then holds the delete horizon (KIP-534)
CODEC_NAMES = ("none", "gzip", "snappy", "lz4", "zstd")
MEANINGFUL_ATTRIBUTES = _CODEC_MASK | _LOG_APPEND_TIME  # how the records read; the rest is the writer's
# where the fields a producer owns sit in a batch (see _HEADER)
_LEADER_EPOCH_AT, _CRC_AT, _ATTRIBUTES_AT, _PRODUCER_AT = 12, 17, 21, 43


@dataclass(frozen=True, slots=True)
class BatchHeader:
    base_offset: int
    length: int  # whole batch in bytes, header included
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    first_timestamp: int
    max_timestamp: int
    producer_id: int
    record_count: int

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        return self.last_offset + 1

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & _TRANSACTIONAL)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & _CONTROL)

    @property
    def log_append_time(self) -> bool:
        return bool(self.attributes & _LOG_APPEND_TIME)

    @property
    def codec(self) -> int:
        return self.attributes & _CODEC_MASK

    @property
    def resendable(self) -> bool:
        """A producer may send this batch again as it is stored (see :func:`client_header`): records
        at consecutive offsets (Kafka refuses a client batch whose record count disagrees with its
        offset range, which compaction leaves behind), CreateTime, data, and nothing the log cleaner
        wrote into its header."""
        return (self.magic == 2 and self.record_count > 0 and self.record_count == self.last_offset_delta + 1
                and not self.attributes & ~(_CODEC_MASK | _TRANSACTIONAL) and self.codec < len(CODEC_NAMES))


class BatchFormatError(ValueError):
    pass


def split_batches(buffer: bytes | memoryview) -> Iterator[tuple[BatchHeader, memoryview]]:
    """Yield every whole batch in ``buffer``. A fetch may end with a partial batch; it is left
    out (the next fetch starts at it). Anything but magic 2 raises BatchFormatError."""
    view = memoryview(buffer)
    pos, end = 0, len(view)
    while end - pos >= HEADER_SIZE:
        (base, batch_len, _epoch, magic, crc, attrs, last_delta, first_ts, max_ts, pid, _pepoch, _seq,
         count) = _HEADER.unpack_from(view, pos)
        size = _LOG_OVERHEAD + batch_len
        if magic != 2:
            raise BatchFormatError(f"record batch at offset {base} has magic {magic}; only v2 batches (Kafka "
                                   "0.11+) can be backed up")
        if pos + size > end:
            return
        yield (BatchHeader(base, size, magic, crc, attrs, last_delta, first_ts, max_ts, pid, count),
               view[pos:pos + size])
        pos += size


def client_header(batch: bytes | memoryview, producer_id: int, producer_epoch: int, base_sequence: int) -> bytes:
    """The header a producer sends a stored, :attr:`BatchHeader.resendable` batch with; the bytes
    after the header (the records) go as they are stored. Rewritten: base offset 0 and no partition
    leader epoch (the broker assigns both), this producer's id, epoch and sequence, not part of a
    transaction, and the CRC-32C over the new header and the stored records. Kept: the length, the
    compression codec, the offset deltas, the record count and both timestamps."""
    header = bytearray(batch[:HEADER_SIZE])
    struct.pack_into(">q", header, 0, 0)
    struct.pack_into(">i", header, _LEADER_EPOCH_AT, -1)
    attributes = struct.unpack_from(">h", header, _ATTRIBUTES_AT)[0] & ~_TRANSACTIONAL
    struct.pack_into(">h", header, _ATTRIBUTES_AT, attributes)
    struct.pack_into(">qhi", header, _PRODUCER_AT, producer_id, producer_epoch, base_sequence)
    crc = crc32c.crc32c(batch[HEADER_SIZE:], crc32c.crc32c(header[_CRC_START:]))
    struct.pack_into(">I", header, _CRC_AT, crc)
    return bytes(header)


def crc_region(batch: memoryview) -> memoryview:
    """The bytes a batch's CRC-32C is computed over."""
    return batch[_CRC_START:]


def whole_batches_end(buffer: bytes | memoryview) -> int | None:
    """The offset after the last whole batch in ``buffer`` (None when there is none)."""
    end = None
    for header, _view in split_batches(buffer):
        end = header.next_offset
    return end


@dataclass(frozen=True, slots=True)
class RawBatch:
    """One whole record batch as bytes (stored in a backup or fetched), with its parsed header: what
    restore and migration send on to the target without decoding its records."""

    header: BatchHeader
    data: memoryview

    @property
    def first_offset(self) -> int:
        return self.header.base_offset

    @property
    def records(self) -> int:
        return self.header.record_count
