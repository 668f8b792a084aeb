"""Checks of a command's input shared by backup, restore and migration, before anything touches Kafka
or the disk: topic names, offset and time ranges, durations. Each failure is a ConfigError (exit 2)."""

from __future__ import annotations

import math
import re
import time

from kafka_sre_tui.engine.errors import ConfigError

_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


def check_topic_name(name: str, option: str = "--topic") -> None:
    """Kafka's own rule: 1-249 of ``[A-Za-z0-9._-]``, and not ``.`` or ``..``."""
    if not _TOPIC.match(name) or name in (".", ".."):
        raise ConfigError(f"{option} '{name}' is not a valid Kafka topic name: use 1-249 letters, digits, "
                          "'.', '_' or '-' (and not '.' or '..')")


def check_range(from_offset: int | None, to_offset: int | None, from_time_ms: int | None,
                to_time_ms: int | None, now_ms: int | None = None) -> None:
    """Offsets are >= 0, a range does not end before it starts, and a start time is not in the future."""
    for name, value in (("--from-offset", from_offset), ("--to-offset", to_offset)):
        if value is not None and value < 0:
            raise ConfigError(f"{name} must be >= 0, got {value}")
    if from_offset is not None and to_offset is not None and from_offset > to_offset:
        raise ConfigError(f"--from-offset {from_offset} is after --to-offset {to_offset}: the range is empty")
    if from_time_ms is not None and to_time_ms is not None and from_time_ms > to_time_ms:
        raise ConfigError("--from-time is after --to-time: the range is empty")
    if from_time_ms is not None and from_time_ms > (now_ms if now_ms is not None else time.time() * 1000):
        raise ConfigError("--from-time is in the future: no record can be that new yet")


def check_seconds(option: str, value: float) -> None:
    """A duration: a finite number of seconds > 0 (NaN and infinity refused)."""
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{option} must be a number of seconds > 0, got {value:g}")
