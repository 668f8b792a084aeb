"""Checks of a command's input shared by backup, restore and migration, before anything touches Kafka
or the disk: topic names, offset and time ranges, durations. Each failure is a ConfigError (exit 2)."""

from __future__ import annotations

import math
import re
import time

from kafka_sre_tui.engine.errors import ConfigError

_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
INT64_MAX = 2**63 - 1  # Kafka's offsets, counts and lags are int64: nothing larger means anything
MAX_SECONDS = 366 * 86_400  # a duration longer than a year is a typo (or a paste), not a setting
MAX_RATE_MB_S = 1_000_000  # 1 TB/s, beyond any link: leave the rate empty for no limit


def check_topic_name(name: str, option: str = "--topic") -> None:
    """Kafka's own rule: 1-249 of ``[A-Za-z0-9._-]``, and not ``.`` or ``..``."""
    if not _TOPIC.match(name) or name in (".", ".."):
        raise ConfigError(f"{option} '{name}' is not a valid Kafka topic name: use 1-249 letters, digits, "
                          "'.', '_' or '-' (and not '.' or '..')")


def check_range(from_offset: int | None, to_offset: int | None, from_time_ms: int | None,
                to_time_ms: int | None, now_ms: int | None = None) -> None:
    """Offsets are >= 0, a range does not end before it starts, and a start time is not in the future."""
    for name, value in (("--from-offset", from_offset), ("--to-offset", to_offset)):
        if value is not None:
            check_count(name, value)
    if from_offset is not None and to_offset is not None and from_offset > to_offset:
        raise ConfigError(f"--from-offset {from_offset} is after --to-offset {to_offset}: the range is empty")
    if from_time_ms is not None and to_time_ms is not None and from_time_ms > to_time_ms:
        raise ConfigError("--from-time is after --to-time: the range is empty")
    if from_time_ms is not None and from_time_ms > (now_ms if now_ms is not None else time.time() * 1000):
        raise ConfigError("--from-time is in the future: no record can be that new yet")


def check_seconds(option: str, value: float, minimum: float = 0.0) -> None:
    """A duration: a finite number of seconds > ``minimum`` (>= when it is not 0), at most a year (NaN
    and infinity refused)."""
    low = value > minimum if minimum == 0 else value >= minimum
    if not (math.isfinite(value) and low and value <= MAX_SECONDS):
        bound = f"> {minimum:g}" if minimum == 0 else f">= {minimum:g}"
        raise ConfigError(f"{option} must be a number of seconds {bound} and at most {MAX_SECONDS:,} (366 days), "
                          f"got {value:g}")


def check_rate(option: str, value: float) -> None:
    """A rate limit in MB/s: finite, > 0, at most :data:`MAX_RATE_MB_S`."""
    if not (math.isfinite(value) and 0 < value <= MAX_RATE_MB_S):
        raise ConfigError(f"{option} must be > 0 MB/s and at most {MAX_RATE_MB_S:,} MB/s (empty: no limit), "
                          f"got {value:g}")


def check_count(option: str, value: int, minimum: int = 0) -> None:
    """A whole number Kafka can hold (offsets, record counts, lags): ``minimum`` to 2^63-1."""
    if not minimum <= value <= INT64_MAX:
        raise ConfigError(f"{option} must be >= {minimum}, got {value}" if value < minimum else
                          f"{option} must be at most {INT64_MAX} (Kafka's largest), got {value}")


def check_replication_factor(value: int) -> None:
    """Kafka's replication factor is an int16 >= 1."""
    if not 1 <= value <= 32_767:
        raise ConfigError(f"--replication-factor must be from 1 to 32767, got {value}")


def check_partition_number(value: int) -> bool:
    """Whether ``value`` can be a partition number (Kafka's are int32 >= 0)."""
    return 0 <= value <= 2**31 - 1
