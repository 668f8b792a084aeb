"""Block compression. Each codec is identified on disk by a one-byte id (see docs/backup-format.md).

Decompression is bounded: a block's header says how many bytes it holds, and no codec is allowed to
produce more than that (a small crafted block must not expand to gigabytes in memory)."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import lz4.frame
import snappy
import zstandard

from kafka_sre_tui.engine.errors import ConfigError

_CHUNK = 1 << 20


class OutputTooLarge(ValueError):
    """The payload expands beyond the limit it was given: decompression stopped there."""


@dataclass(frozen=True)
class Codec:
    name: str
    codec_id: int
    default_level: int | None
    levels: tuple[int, int] | None
    compress: Callable[[bytes, int | None], bytes]
    decompress: Callable[[bytes, int], bytes]  # (payload, at most this many bytes out) -> raw


def _checked(raw: bytes, limit: int) -> bytes:
    if len(raw) > limit:
        raise OutputTooLarge(f"expands beyond {limit} bytes")
    return raw


def _none_decompress(data: bytes, limit: int) -> bytes:
    return _checked(data, limit)


def _zlib_decompress(data: bytes, limit: int) -> bytes:
    stream = zlib.decompressobj()
    raw = _checked(stream.decompress(data, limit + 1), limit)
    if not stream.eof:
        raise ValueError("incomplete or truncated zlib stream")
    return raw


def _snappy_length(data: bytes) -> int:
    """The uncompressed length a raw snappy block starts with (a little-endian base-128 varint)."""
    length = 0
    for index, byte in enumerate(data[:5]):
        length |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            return length
    raise ValueError("snappy block has no valid length")


def _snappy_decompress(data: bytes, limit: int) -> bytes:
    claimed = _snappy_length(data)  # snappy allocates what its block claims: check before it does
    if claimed > limit:
        raise OutputTooLarge(f"claims {claimed} bytes, more than {limit}")
    return _checked(snappy.decompress(data), limit)


def _lz4_decompress(data: bytes, limit: int) -> bytes:
    frame = lz4.frame.LZ4FrameDecompressor()
    raw = _checked(frame.decompress(data, max_length=limit + 1), limit)
    if not frame.eof:
        raise ValueError("incomplete or truncated lz4 frame")
    return raw


def _zstd_compress(data: bytes, level: int | None) -> bytes:
    return zstandard.ZstdCompressor(level=level if level is not None else 3).compress(data)


def _zstd_decompress(data: bytes, limit: int) -> bytes:
    # streamed: a one-shot decompress would allocate whatever size the frame header claims
    parts: list[bytes] = []
    total = 0
    with zstandard.ZstdDecompressor().stream_reader(data) as reader:
        while total <= limit and (chunk := reader.read(min(_CHUNK, limit + 1 - total))):
            parts.append(chunk)
            total += len(chunk)
    return _checked(b"".join(parts), limit)


CODECS: dict[str, Codec] = {c.name: c for c in (
    Codec("none", 0, None, None, lambda d, _lvl: d, _none_decompress),
    Codec("gzip", 1, 6, (1, 9), lambda d, lvl: zlib.compress(d, lvl if lvl is not None else 6),
          _zlib_decompress),
    Codec("snappy", 2, None, None, lambda d, _lvl: snappy.compress(d), _snappy_decompress),
    Codec("lz4", 3, 0, (0, 16), lambda d, lvl: lz4.frame.compress(d, compression_level=lvl or 0),
          _lz4_decompress),
    Codec("zstd", 4, 3, (1, 22), _zstd_compress, _zstd_decompress),
)}
BY_ID = {c.codec_id: c for c in CODECS.values()}


def codec(name: str, level: int | None = None) -> tuple[Codec, int | None]:
    """The codec called ``name`` and the level to use, validated; ConfigError otherwise."""
    found = CODECS.get(name.lower())
    if found is None:
        raise ConfigError(f"unknown compression '{name}': use one of {', '.join(CODECS)}")
    if level is None:
        return found, found.default_level
    if found.levels is None:
        raise ConfigError(f"compression {found.name} has no levels: drop --level")
    low, high = found.levels
    if not low <= level <= high:
        raise ConfigError(f"--level {level} is out of range for {found.name}: use {low} to {high}")
    return found, level
