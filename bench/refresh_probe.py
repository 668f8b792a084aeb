"""Child process: time the dashboard's refresh stages on one session, as ClusterRefresher runs them
(tui/refresh.py): metadata (first refresh only), topics' offsets, groups with lag, sizes on disk, data
loss ahead. The median is of the refreshes after the first.

    python -m bench.refresh_probe BOOTSTRAP REPEATS   -> JSON on stdout (seconds: first run and median)
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from typing import Any

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.drain.groups_data_loss import GroupsDataLoss
from kafka_sre_tui.engine.inspect.cluster import list_topics
from kafka_sre_tui.engine.inspect.groups import list_groups
from kafka_sre_tui.engine.kafka.log_dirs import apply_sizes, describe_log_dirs
from kafka_sre_tui.engine.kafka.session import KafkaSession


async def probe(bootstrap: str, repeats: int) -> dict[str, Any]:
    cluster = ClusterConfig(name="bench", bootstrap_servers=tuple(bootstrap.split(",")), request_timeout_seconds=60)
    runs: list[dict[str, float]] = []
    counts: dict[str, int] = {}
    async with KafkaSession(cluster) as session:
        losses = GroupsDataLoss(session)
        try:
            for n in range(repeats):
                t0 = time.perf_counter()
                if n == 0:  # later refreshes keep the rows on screen until the offsets are in
                    await list_topics(session, with_offsets=False)
                t1 = time.perf_counter()
                topics = await list_topics(session)
                t2 = time.perf_counter()
                read_at = time.time()
                groups = await list_groups(session)
                t3 = time.perf_counter()
                sizes = await describe_log_dirs(session)
                sized = await asyncio.to_thread(apply_sizes, topics, sizes)
                t4 = time.perf_counter()
                await losses.look(sized, groups, read_at)
                t5 = time.perf_counter()
                runs.append({"topics_metadata_s": t1 - t0, "topics_offsets_s": t2 - t1, "groups_lag_s": t3 - t2,
                             "sizes_s": t4 - t3, "data_loss_s": t5 - t4, "total_s": t5 - t0})
                counts = {"topics": len(topics), "partitions": sum(len(t.partitions) for t in topics),
                          "groups": len(groups), "group_partitions": sum(len(g.partitions) for g in groups)}
        finally:
            await losses.close()
    first = runs[0]
    median = {k: statistics.median(r[k] for r in runs[1:] or runs) for k in first}
    return {**counts, "repeats": repeats, "first": _round(first), "median": _round(median)}


def _round(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in values.items()}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(probe(sys.argv[1], int(sys.argv[2])))))
