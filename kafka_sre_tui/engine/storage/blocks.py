"""A block: Kafka record batches concatenated, compressed, framed by a fixed header with a CRC-32."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from kafka_sre_tui.engine.storage.codecs import BY_ID, Codec

MAGIC = b"KSRB"
VERSION = 1
# magic, version, codec id, reserved, first offset, last offset, first timestamp, max timestamp,
# records, batches, raw length, stored length, CRC-32 of the stored payload
_FRAME = struct.Struct(">4sBBHqqqqIIIII")
FRAME_SIZE = _FRAME.size  # 60


@dataclass(frozen=True)
class BlockInfo:
    """A block as the index (manifest) records it. Offsets are those of the first and last record
    batch in the block; ``position`` is where its frame starts in the segment file."""

    position: int
    stored_length: int
    raw_length: int
    crc32: int
    first_offset: int
    last_offset: int
    first_timestamp: int
    max_timestamp: int
    records: int
    batches: int


class BlockError(ValueError):
    pass


def encode_block(raw: bytes, codec: Codec, level: int | None, first_offset: int, last_offset: int,
                 first_timestamp: int, max_timestamp: int, records: int, batches: int,
                 position: int) -> tuple[bytes, bytes, BlockInfo]:
    """Frame and payload of one block, plus its index entry."""
    stored = codec.compress(raw, level)
    crc = zlib.crc32(stored)
    frame = _FRAME.pack(MAGIC, VERSION, codec.codec_id, 0, first_offset, last_offset, first_timestamp,
                        max_timestamp, records, batches, len(raw), len(stored), crc)
    info = BlockInfo(position, len(stored), len(raw), crc, first_offset, last_offset, first_timestamp,
                     max_timestamp, records, batches)
    return frame, stored, info


def decode_frame(frame: bytes, position: int) -> tuple[BlockInfo, Codec]:
    if len(frame) < FRAME_SIZE:
        raise BlockError("block header cut short (truncated file)")
    (magic, version, codec_id, _reserved, first, last, first_ts, max_ts, records, batches, raw_len, stored_len,
     crc) = _FRAME.unpack_from(frame)
    if magic != MAGIC:
        raise BlockError(f"no block header at byte {position} (found {magic!r})")
    if version != VERSION:
        raise BlockError(f"block format version {version} at byte {position} is not supported")
    if codec_id not in BY_ID:
        raise BlockError(f"unknown codec id {codec_id} at byte {position}")
    info = BlockInfo(position, stored_len, raw_len, crc, first, last, first_ts, max_ts, records, batches)
    return info, BY_ID[codec_id]


def decode_payload(info: BlockInfo, codec: Codec, stored: bytes) -> bytes:
    """The block's record batches, after checking its CRC-32 and length."""
    if len(stored) != info.stored_length:
        raise BlockError("block cut short (truncated file)")
    if zlib.crc32(stored) != info.crc32:
        raise BlockError("block CRC-32 mismatch (damaged data)")
    try:
        raw = codec.decompress(stored)
    except Exception as exc:  # every codec library has its own error type
        raise BlockError(f"block does not decompress with {codec.name}: {exc}") from None
    if len(raw) != info.raw_length:
        raise BlockError(f"block decompresses to {len(raw)} bytes, header says {info.raw_length}")
    return raw
