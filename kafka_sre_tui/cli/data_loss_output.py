"""How `lag`, `lag --watch` and `drain` show time to data loss (engine/drain/data_loss.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the engine is imported by the command that runs (see cli/main.py)
    from kafka_sre_tui.engine.drain.data_loss import DataLoss
    from kafka_sre_tui.engine.models import TopicPartition

LOST, AT_RISK, UNKNOWN, SAFE, NONE = "LOST", "AT RISK", "UNKNOWN", "SAFE", "-"  # LossStatus values
_ORDER = [LOST, AT_RISK, UNKNOWN, SAFE, NONE]


def partition_fields(loss: DataLoss | None) -> dict[str, Any]:
    if loss is None:
        return {"data_loss": None, "data_loss_eta_seconds": None, "records_lost": None, "data_loss_reason": None}
    return {"data_loss": loss.status.value, "records_lost": loss.records_lost,
            "data_loss_eta_seconds": None if loss.eta_seconds is None else round(loss.eta_seconds, 3),
            "data_loss_reason": loss.reason}


def group_fields(losses: Mapping[TopicPartition, DataLoss]) -> dict[str, Any]:
    """The group's worst: the earliest time to data loss, and all records lost, summed."""
    etas = [d.eta_seconds for d in losses.values() if d.eta_seconds is not None]
    worst = worst_status(losses)
    return {"data_loss": worst, "records_lost": sum(d.records_lost for d in losses.values()),
            "data_loss_eta_seconds": round(min(etas), 3) if etas else None}


def worst_status(losses: Mapping[TopicPartition, DataLoss]) -> str | None:
    statuses = {d.status.value for d in losses.values()}
    return next((s for s in _ORDER if s in statuses), None)


def short(loss: DataLoss | None) -> str:
    """``LOST 120``, ``AT RISK ~3 h 00 m``, ``SAFE ~6 d 03 h``, ``UNKNOWN`` or ``-``."""
    from kafka_sre_tui.engine.drain.lag_time import format_seconds

    if loss is None or loss.status.value == NONE:
        return "-"
    if loss.status.value == LOST:
        return f"LOST {loss.records_lost:,}"
    if loss.eta_seconds is not None:
        return f"{loss.status.value} ~{format_seconds(loss.eta_seconds)}"
    return loss.status.value


def group_marker(losses: Mapping[TopicPartition, DataLoss]) -> str:
    """The groups pane's marker: ``LOST 1,200`` (all partitions summed), ``AT RISK ~3 h 00 m`` (the
    earliest), or empty when no partition is either."""
    from kafka_sre_tui.engine.drain.lag_time import format_seconds

    fields = group_fields(losses)
    if fields["data_loss"] == LOST:
        return f"LOST {fields['records_lost']:,}"
    if fields["data_loss"] == AT_RISK:
        etas = [d.eta_seconds for d in losses.values() if d.status.value == AT_RISK and d.eta_seconds is not None]
        return f"AT RISK ~{format_seconds(min(etas))}" if etas else AT_RISK
    return ""


def marker_rank(marker: str) -> int:
    """Groups losing data first, then those about to; the rest keep their order."""
    return 0 if marker.startswith(LOST) else 1 if marker.startswith(AT_RISK) else 2


def headline(losses: Mapping[TopicPartition, DataLoss]) -> str | None:
    """One line for the most urgent partition, with its reasoning; None when nothing is at risk."""
    urgent = [(tp, d) for tp, d in losses.items() if d.status.value in (LOST, AT_RISK)]
    if not urgent:
        return None
    tp, d = min(urgent, key=lambda item: (_ORDER.index(item[1].status.value), item[1].eta_seconds or 0.0))
    return f"DATA LOSS {short(d)} on {tp.topic}/{tp.partition}: {d.reason}"
