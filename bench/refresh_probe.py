"""Child process: time the dashboard's refresh stages, run by the dashboard's own ClusterRefresher
(tui/refresh.py) on one session: metadata (first refresh only), topics' offsets, groups with lag, sizes
on disk, data loss ahead, each up to the message that posts it. The median is of the refreshes after
the first.

    python -m bench.refresh_probe BOOTSTRAP REPEATS   -> JSON on stdout (seconds: first run and median)
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from typing import Any

from textual.message import Message

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.tui.messages import (
    DataLossLoaded,
    GroupsLoaded,
    RefreshDone,
    RefreshFailed,
    TopicSizesLoaded,
    TopicsLoaded,
)
from kafka_sre_tui.tui.refresh import ClusterRefresher


class _Stages:
    """Stands in for the app: the refresher posts each stage's message here, and the time it came is kept."""

    def __init__(self) -> None:
        self.seen: list[tuple[Message, float]] = []

    def post_message(self, message: Message) -> bool:
        self.seen.append((message, time.perf_counter()))
        return True


def _stage(message: Message) -> str | None:
    if isinstance(message, TopicsLoaded):
        return "topics_offsets_s" if message.with_offsets else "topics_metadata_s"
    return {GroupsLoaded: "groups_lag_s", TopicSizesLoaded: "sizes_s", DataLossLoaded: "data_loss_s",
            RefreshDone: "total_s"}.get(type(message))


async def probe(bootstrap: str, repeats: int) -> dict[str, Any]:
    cluster = ClusterConfig(name="bench", bootstrap_servers=tuple(bootstrap.split(",")), request_timeout_seconds=60)
    stages = _Stages()
    refresher = ClusterRefresher(cluster, stages)  # type: ignore[arg-type]  # only post_message is used
    runs: list[dict[str, float]] = []
    counts: dict[str, int] = {}
    try:
        for _ in range(repeats):
            stages.seen.clear()
            started = last = time.perf_counter()
            await refresher.refresh()
            run = dict.fromkeys(("topics_metadata_s", "topics_offsets_s", "groups_lag_s", "sizes_s", "data_loss_s"),
                                0.0)
            for message, at in stages.seen:
                if isinstance(message, RefreshFailed):
                    raise SystemExit(f"refresh failed: {message.error}")
                if (name := _stage(message)) == "total_s":
                    run[name] = at - started
                elif name is not None:
                    run[name], last = at - last, at
                if isinstance(message, TopicsLoaded) and message.with_offsets:
                    counts["topics"] = len(message.topics)
                    counts["partitions"] = sum(len(t.partitions) for t in message.topics)
                elif isinstance(message, GroupsLoaded):
                    counts["groups"] = len(message.groups)
                    counts["group_partitions"] = sum(len(g.partitions) for g in message.groups)
            runs.append(run)
    finally:
        await refresher.close()
    first = runs[0]
    median = {k: statistics.median(r[k] for r in runs[1:] or runs) for k in first}
    return {**counts, "repeats": repeats, "first": _round(first), "median": _round(median)}


def _round(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in values.items()}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(probe(sys.argv[1], int(sys.argv[2])))))
