"""Kafka v2 record batches as the broker sends them: split a fetched buffer into batches by
reading their fixed headers, without decoding records (that is what keeps backup fast)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

# baseOffset, batchLength, partitionLeaderEpoch, magic, crc, attributes, lastOffsetDelta,
# firstTimestamp, maxTimestamp, producerId, producerEpoch, baseSequence, recordCount
_HEADER = struct.Struct(">qiibIhiqqqhii")
HEADER_SIZE = _HEADER.size  # 61
_LOG_OVERHEAD = 12  # baseOffset + batchLength precede the part that batchLength counts
_CRC_START = 21  # the CRC-32C covers everything from attributes to the end
_TRANSACTIONAL = 0x10
_CONTROL = 0x20
_LOG_APPEND_TIME = 0x08


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


def crc_region(batch: memoryview) -> memoryview:
    """The bytes a batch's CRC-32C is computed over."""
    return batch[_CRC_START:]


def whole_batches_end(buffer: bytes | memoryview) -> int | None:
    """The offset after the last whole batch in ``buffer`` (None when there is none)."""
    end = None
    for header, _view in split_batches(buffer):
        end = header.next_offset
    return end
