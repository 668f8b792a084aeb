"""Block compression. Each codec is identified on disk by a one-byte id (see docs/backup-format.md)."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import lz4.frame
import snappy
import zstandard

from kafka_sre_tui.engine.errors import ConfigError


@dataclass(frozen=True)
class Codec:
    name: str
    codec_id: int
    default_level: int | None
    levels: tuple[int, int] | None
    compress: Callable[[bytes, int | None], bytes]
    decompress: Callable[[bytes], bytes]


def _zstd_compress(data: bytes, level: int | None) -> bytes:
    return zstandard.ZstdCompressor(level=level if level is not None else 3).compress(data)


def _zstd_decompress(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompress(data)


CODECS: dict[str, Codec] = {c.name: c for c in (
    Codec("none", 0, None, None, lambda d, _lvl: d, lambda d: d),
    Codec("gzip", 1, 6, (1, 9), lambda d, lvl: zlib.compress(d, lvl if lvl is not None else 6),
          zlib.decompress),
    Codec("snappy", 2, None, None, lambda d, _lvl: snappy.compress(d), snappy.decompress),
    Codec("lz4", 3, 0, (0, 16), lambda d, lvl: lz4.frame.compress(d, compression_level=lvl or 0),
          lz4.frame.decompress),
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
