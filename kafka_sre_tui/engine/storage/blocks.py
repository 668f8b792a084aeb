"""A block: Kafka record batches concatenated, compressed, framed by a fixed header with a CRC-32.
In an encrypted backup (block version 2) the compressed payload is sealed with AES-256-GCM; the
CRC-32 then covers the sealed bytes, so damage is found with or without the key."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from kafka_sre_tui.engine.storage.codecs import BY_ID, Codec, OutputTooLarge

MAGIC = b"KSRB"
VERSION = 1
ENCRYPTED_VERSION = 2
Seal = Callable[[bytes, bytes], bytes]  # (authenticated header, data) -> sealed bytes, and back
# magic, version, codec id, reserved, first offset, last offset, first timestamp, max timestamp,
# records, batches, raw length, stored length, CRC-32 of the stored payload
_FRAME = struct.Struct(">4sBBHqqqqIIIII")
FRAME_SIZE = _FRAME.size  # 60
HEAD_SIZE = 56  # the frame without its CRC: what AES-GCM authenticates with a sealed payload
SEAL_OVERHEAD = 28  # 12-byte nonce + 16-byte tag
# The most a block may hold once decompressed. The writer seals a block at 1 MiB of batches, so a block
# is 1 MiB plus at most one Kafka batch, and a batch fits in one produce request (broker default
# socket.request.max.bytes: 100 MiB). A header claiming more is damage or a decompression bomb.
MAX_RAW_LENGTH = 1 << 30


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
                 position: int, seal: Seal | None = None) -> tuple[bytes, bytes, BlockInfo]:
    """Frame and payload of one block, plus its index entry; ``seal`` encrypts the payload."""
    if len(raw) > MAX_RAW_LENGTH:
        raise BlockError(f"a block of {len(raw)} bytes is more than the {MAX_RAW_LENGTH} bytes a backup "
                         "block may hold (a Kafka batch that large cannot be backed up)")
    stored = codec.compress(raw, level)
    version = VERSION
    if seal is not None:
        version = ENCRYPTED_VERSION
        head = _FRAME.pack(MAGIC, version, codec.codec_id, 0, first_offset, last_offset, first_timestamp,
                           max_timestamp, records, batches, len(raw), len(stored) + SEAL_OVERHEAD, 0)[:HEAD_SIZE]
        stored = seal(head, stored)
    crc = zlib.crc32(stored)
    frame = _FRAME.pack(MAGIC, version, codec.codec_id, 0, first_offset, last_offset, first_timestamp,
                        max_timestamp, records, batches, len(raw), len(stored), crc)
    info = BlockInfo(position, len(stored), len(raw), crc, first_offset, last_offset, first_timestamp,
                     max_timestamp, records, batches)
    return frame, stored, info


def decode_frame(frame: bytes, position: int, encrypted: bool = False) -> tuple[BlockInfo, Codec]:
    """The block header at ``position``; ``encrypted``: what the manifest says of the backup."""
    if len(frame) < FRAME_SIZE:
        raise BlockError("block header cut short (truncated file)")
    (magic, version, codec_id, reserved, first, last, first_ts, max_ts, records, batches, raw_len, stored_len,
     crc) = _FRAME.unpack_from(frame)
    if magic != MAGIC:
        raise BlockError(f"no block header at byte {position} (found {magic!r})")
    if version not in (VERSION, ENCRYPTED_VERSION):
        raise BlockError(f"block format version {version} at byte {position} is not supported")
    if (version == ENCRYPTED_VERSION) != encrypted:
        state = "encrypted" if version == ENCRYPTED_VERSION else "not encrypted"
        raise BlockError(f"block at byte {position} is {state}, unlike the backup its manifest describes")
    if codec_id not in BY_ID:
        raise BlockError(f"unknown codec id {codec_id} at byte {position}")
    if reserved:
        raise BlockError(f"block header at byte {position} has its reserved bytes set (damaged data)")
    if raw_len > MAX_RAW_LENGTH:
        raise BlockError(f"block at byte {position} claims {raw_len} bytes uncompressed, more than the "
                         f"{MAX_RAW_LENGTH} a block may hold (damaged or crafted)")
    info = BlockInfo(position, stored_len, raw_len, crc, first, last, first_ts, max_ts, records, batches)
    return info, BY_ID[codec_id]


def decode_payload(info: BlockInfo, codec: Codec, stored: bytes, unseal: Seal | None = None) -> bytes:
    """The block's record batches, after checking its CRC-32 and length (and opening it)."""
    if len(stored) != info.stored_length:
        raise BlockError("block cut short (truncated file)")
    if zlib.crc32(stored) != info.crc32:
        raise BlockError("block CRC-32 mismatch (damaged data)")
    if unseal is not None:
        head = _FRAME.pack(MAGIC, ENCRYPTED_VERSION, codec.codec_id, 0, info.first_offset, info.last_offset,
                           info.first_timestamp, info.max_timestamp, info.records, info.batches, info.raw_length,
                           info.stored_length, 0)[:HEAD_SIZE]
        try:
            stored = unseal(head, stored)
        except ValueError as exc:  # SealError
            raise BlockError(str(exc)) from None
    try:
        raw = codec.decompress(stored, info.raw_length)
    except OutputTooLarge:
        raise BlockError(f"block expands beyond the {info.raw_length} bytes its header claims (a decompression "
                         "bomb or damage): decompression stopped there") from None
    except Exception as exc:  # every codec library has its own error type
        raise BlockError(f"block does not decompress with {codec.name}: {exc}") from None
    if len(raw) != info.raw_length:
        raise BlockError(f"block decompresses to {len(raw)} bytes, header says {info.raw_length}")
    return raw
