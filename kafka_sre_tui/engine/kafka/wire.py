"""Kafka's protocol primitives, read and written by hand for the answers that grow with the cluster.

aiokafka's schema types make a Python call per field; these readers leave fixed runs of fields to
one ``struct`` call in the decoders that use them (large_answers.py, offset_fetch.py, log_dirs.py).
Classic (non-flexible) versions: int16-sized strings, int32-counted arrays. Flexible versions:
unsigned-varint lengths plus one (0: null) and a tagged-field section closing every structure.
"""

from __future__ import annotations

import struct
from functools import cache

I16 = struct.Struct(">h")
I32 = struct.Struct(">i")


class Reader:
    """A position in an answer's bytes; callers may also ``unpack_from(r.buf, r.pos)`` and move ``pos``."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def int16(self) -> int:
        (value,) = I16.unpack_from(self.buf, self.pos)
        self.pos += 2
        return int(value)

    def int32(self) -> int:
        (value,) = I32.unpack_from(self.buf, self.pos)
        self.pos += 4
        return int(value)

    def string(self) -> str | None:
        """A classic string (int16 length, -1: null)."""
        return self._text(self.int16())

    def int32s(self) -> list[int]:
        """A classic array of int32."""
        return self._int32s(self.int32())

    def uvarint(self) -> int:
        value = shift = 0
        while True:
            byte = self.buf[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7

    def count(self) -> int:
        """A compact array's length (a null array counts as empty)."""
        return max(self.uvarint() - 1, 0)

    def compact_string(self) -> str | None:
        return self._text(self.uvarint() - 1)

    def compact_int32s(self) -> list[int]:
        return self._int32s(self.count())

    def skip_compact_string(self) -> None:
        size = self.uvarint() - 1  # read before adding: ``self.pos += self.uvarint()`` would lose the varint
        self.pos += max(size, 0)

    def skip_tags(self) -> None:
        for _ in range(self.uvarint()):
            self.uvarint()  # the tag
            size = self.uvarint()
            self.pos += size

    def done(self, what: str) -> None:
        if self.pos != len(self.buf):
            raise ValueError(f"{what} answer has {len(self.buf) - self.pos} bytes past its last field")

    def _text(self, size: int) -> str | None:
        if size < 0:
            return None
        start = self.pos
        self.pos += size
        return self.buf[start:self.pos].decode()

    def _int32s(self, count: int) -> list[int]:
        if count <= 0:
            return []
        values = int32s(count).unpack_from(self.buf, self.pos)
        self.pos += 4 * count
        return list(values)


@cache
def int32s(count: int) -> struct.Struct:
    return struct.Struct(f">{count}i")


def string(value: str) -> bytes:
    data = value.encode()
    return I16.pack(len(data)) + data


def uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def compact_string(value: str) -> bytes:
    data = value.encode()
    return uvarint(len(data) + 1) + data
