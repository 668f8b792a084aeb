"""Time to data loss: when retention will delete the record at a group's committed offset, and the
records it already deleted unread. Pure: the Kafka side is data_loss_probe.py.

Three estimates, the earliest wins, each given in words:
- ``retention.ms``: Kafka deletes a segment once its newest record is older than retention.ms, so the
  committed record goes at the earliest when *its* age reaches retention.ms (later when newer records
  share its segment, plus up to ``log.retention.check.interval.ms``): ``retention.ms - age``.
- ``retention.bytes``: the partition keeps at most that many bytes, so the committed record goes once
  the bytes from it to the end exceed it: ``(retention.bytes - unread bytes) / growth``. With no growth
  seen yet this cannot be known, and is said so.
- the log start offset seen moving: ``(committed - log start) / its rate``, whatever the cause.
A committed offset below the log start offset means records are already lost: ``log start - committed``
of them, and the group will reset by its ``auto.offset.reset`` (skipping or replaying silently).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from kafka_sre_tui.engine.drain.lag_time import format_seconds
from kafka_sre_tui.engine.models import TopicPartition

AT_RISK_SECONDS = 24 * 3600  # retention reaching unread records sooner than this is shown as AT RISK


class LossStatus(StrEnum):
    LOST = "LOST"  # records already deleted unread
    AT_RISK = "AT RISK"  # retention reaches the committed offset within AT_RISK_SECONDS
    SAFE = "SAFE"  # retention is further away than that (or never deletes)
    UNKNOWN = "UNKNOWN"  # it cannot be known yet (say why)
    NONE = "-"  # nothing unread, or no commit


@dataclass(frozen=True)
class RetentionView:
    """What is known of one partition. None means not known."""

    committed: int | None
    log_start: int | None
    end_offset: int | None
    committed_timestamp_ms: int | None  # the first readable record at or after the committed offset
    retention_ms: int | None  # -1: no time limit (or cleanup.policy without delete)
    retention_bytes: int | None  # -1: no size limit
    size_bytes: int | None  # the partition's log on disk
    growth_bytes_per_second: float | None  # observed; None: not seen yet
    log_start_rate: float | None  # offsets per second the log start moved; None: not seen yet


@dataclass(frozen=True)
class DataLoss:
    status: LossStatus
    eta_seconds: float | None  # time until retention deletes the record at the committed offset
    records_lost: int
    reason: str


@dataclass(frozen=True)
class GroupDataLossSeen:
    """The data loss ahead of a group's lagging partitions at one sample (``drain``, ``lag --watch``,
    the dashboard's drain): what the alerts of a job run with ``--notify`` look at (observe/alerts.py)."""

    group_id: str
    at: float  # epoch seconds
    losses: Mapping[TopicPartition, DataLoss]


def estimate(view: RetentionView, now_ms: int, at_risk_seconds: float = AT_RISK_SECONDS) -> DataLoss:
    c, start, end = view.committed, view.log_start, view.end_offset
    if c is None or end is None:
        return DataLoss(LossStatus.NONE, None, 0, "no commit")
    if start is not None and c < start:
        lost = start - c
        return DataLoss(LossStatus.LOST, 0.0, lost, f"committed offset {c:,} is below the log start {start:,}: "
                        f"{lost:,} records deleted unread; the group will reset by its auto.offset.reset")
    if end <= c:
        return DataLoss(LossStatus.NONE, None, 0, "nothing unread")
    estimates: list[tuple[float, str]] = []
    unknowns: list[str] = []
    _by_time(view, now_ms, estimates, unknowns)
    _by_size(view, estimates, unknowns)
    if view.log_start_rate and view.log_start_rate > 0 and start is not None:
        left = (c - start) / view.log_start_rate
        estimates.append((left, f"log start moving {view.log_start_rate:,.1f} records/s, {c - start:,} records "
                                f"before the committed offset → about {format_seconds(left)} left"))
    if not estimates:
        if unknowns:
            return DataLoss(LossStatus.UNKNOWN, None, 0, "; ".join(unknowns))
        return DataLoss(LossStatus.SAFE, None, 0, "no retention limit: nothing will be deleted")
    seconds, why = min(estimates)
    seconds = max(seconds, 0.0)
    status = LossStatus.AT_RISK if seconds <= at_risk_seconds else LossStatus.SAFE
    return DataLoss(status, seconds, 0, "; ".join([why, *unknowns]))


def _by_time(view: RetentionView, now_ms: int, estimates: list[tuple[float, str]], unknowns: list[str]) -> None:
    limit = view.retention_ms
    if limit is None:
        unknowns.append("retention.ms unknown")
    elif limit >= 0:
        if view.committed_timestamp_ms is None:
            unknowns.append(f"retention.ms {format_seconds(limit / 1000)}; the committed record's timestamp "
                            "is not read yet")
            return
        age = max(now_ms - view.committed_timestamp_ms, 0) / 1000
        left = limit / 1000 - age
        estimates.append((left, f"retention.ms {format_seconds(limit / 1000)}; oldest unread record is "
                                f"{format_seconds(age)} old → about {format_seconds(max(left, 0))} left"))


def _by_size(view: RetentionView, estimates: list[tuple[float, str]], unknowns: list[str]) -> None:
    limit = view.retention_bytes
    if limit is None or limit < 0:
        return  # None: only asked for when set; -1: no size limit
    c, start, end, size = view.committed, view.log_start, view.end_offset, view.size_bytes
    if size is None or c is None or start is None or end is None or end <= start:
        unknowns.append(f"retention.bytes {limit:,} B: the partition's size is unknown")
        return
    unread = size * (end - c) / (end - start)
    if unread >= limit:
        estimates.append((0.0, f"retention.bytes {limit:,} B; about {unread:,.0f} B unread → due now"))
    elif not view.growth_bytes_per_second or view.growth_bytes_per_second <= 0:
        unknowns.append(f"retention.bytes {limit:,} B; about {unread:,.0f} B unread; no growth seen yet, "
                        "so the time left is unknown")
    else:
        left = (limit - unread) / view.growth_bytes_per_second
        estimates.append((left, f"retention.bytes {limit:,} B; about {unread:,.0f} B unread, growing "
                                f"{view.growth_bytes_per_second:,.0f} B/s → about {format_seconds(left)} left"))
