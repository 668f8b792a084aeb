"""Child process: time the dashboard's refresh stages on one session, as ClusterRefresher runs them
(tui/refresh.py): metadata, offsets with the groups' lag, sizes on disk, data loss ahead.

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
from kafka_sre_tui.engine.inspect.cluster_look import look_at_cluster
from kafka_sre_tui.engine.kafka.log_dirs import apply_sizes, describe_log_dirs
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicInfo


async def probe(bootstrap: str, repeats: int) -> dict[str, Any]:
    cluster = ClusterConfig(name="bench", bootstrap_servers=tuple(bootstrap.split(",")), request_timeout_seconds=60)
    runs: list[dict[str, float]] = []
    counts: dict[str, int] = {}
    async with KafkaSession(cluster) as session:
        losses = GroupsDataLoss(session)
        try:
            for _ in range(repeats):
                t0 = time.perf_counter()
                metadata_at: list[float] = []

                def on_metadata(_topics: list[TopicInfo], seen: list[float] = metadata_at) -> None:
                    seen.append(time.perf_counter())

                look = await look_at_cluster(session, on_metadata=on_metadata)
                t2 = time.perf_counter()
                sizes = await describe_log_dirs(session)
                sized = await asyncio.to_thread(apply_sizes, look.topics, sizes)
                t3 = time.perf_counter()
                await losses.look(sized, look.groups, look.ends_read_at)
                t4 = time.perf_counter()
                runs.append({"topics_metadata_s": metadata_at[0] - t0, "offsets_and_lag_s": t2 - metadata_at[0],
                             "sizes_s": t3 - t2, "data_loss_s": t4 - t3, "total_s": t4 - t0})
                counts = {"topics": len(look.topics), "partitions": sum(len(t.partitions) for t in look.topics),
                          "groups": len(look.groups), "group_partitions": sum(len(g.partitions) for g in look.groups)}
        finally:
            await losses.close()
    first = runs[0]
    median = {k: statistics.median(r[k] for r in runs) for k in first}
    return {**counts, "repeats": repeats, "first": _round(first), "median": _round(median)}


def _round(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in values.items()}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(probe(sys.argv[1], int(sys.argv[2])))))
