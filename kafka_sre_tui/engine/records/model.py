"""One record as Kafka stored it: nothing decoded beyond the record batch format."""

from __future__ import annotations

from dataclasses import dataclass

CREATE_TIME, LOG_APPEND_TIME = "CreateTime", "LogAppendTime"


@dataclass(frozen=True, slots=True)
class Record:
    """``key``/``value`` None is a null (a tombstone value), ``b""`` an empty one; headers keep their
    order, duplicate names and null values."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    timestamp_type: str  # CREATE_TIME or LOG_APPEND_TIME
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]

    @property
    def timestamp(self) -> int:
        """What the faithful writer (engine/kafka/topic_writer.py) sends."""
        return self.timestamp_ms

    @property
    def size(self) -> int:
        """Key, value and header bytes: what a copy of this record carries."""
        return (len(self.key or b"") + len(self.value or b"")
                + sum(len(name) + len(value or b"") for name, value in self.headers))
