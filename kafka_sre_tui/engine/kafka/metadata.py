"""Reading Metadata responses: who leads each partition."""

from __future__ import annotations

from typing import Any

from kafka_sre_tui.engine.models import TopicPartition


def partition_leaders(meta: dict[str, Any]) -> dict[TopicPartition, int | None]:
    """Leader of every partition of the topics in a Metadata response (None when offline)."""
    return {TopicPartition(t["topic"], p["partition"]): leader(p)
            for t in meta["topics"] if not t["error_code"] for p in t["partitions"]}


def leader(partition: dict[str, Any]) -> int | None:
    return partition["leader"] if partition["leader"] >= 0 else None
