"""The lag exporter at scale: round time, scrape time, series and memory on a built cluster.

``python -m bench.exporter_probe [--topics N] [--partitions P] [--groups G] [--rounds R]`` starts a
local broker, builds the inspection benchmark's cluster (bench/inspection.py) at that scale, runs the
exporter's rounds in this process and scrapes its endpoint over HTTP. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
import urllib.request

from bench.inspection import Scale, build
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.localkafka import LocalKafka, free_port
from kafka_sre_tui.observe.exporter import ClusterStats, ExporterCollector, ExporterSettings, GroupJudge
from kafka_sre_tui.observe.lag_metrics import LagCollector
from kafka_sre_tui.observe.server import serve_metrics


async def probe(bootstrap: str, rounds: int) -> dict[str, object]:
    cluster = ClusterConfig(name="bench", bootstrap_servers=(bootstrap,), request_timeout_seconds=60)
    lag, stats = LagCollector(), ClusterStats()
    judge = GroupJudge(cluster.name, ExporterSettings(interval_seconds=0.0), lag, stats)
    port = free_port()
    server = serve_metrics(port, "127.0.0.1", [lag, ExporterCollector({cluster.name: stats})])
    round_seconds, scrape_seconds, size = [], [], 0
    try:
        async with KafkaSession(cluster) as session:
            for _ in range(rounds):
                started = time.perf_counter()
                await judge.round(session, time.time)
                round_seconds.append(round(time.perf_counter() - started, 3))
                started = time.perf_counter()
                body = await asyncio.to_thread(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read())
                scrape_seconds.append(round(time.perf_counter() - started, 3))
                size = len(body)
    finally:
        server.shutdown()
        server.server_close()
    series = sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))
    return {"groups": stats.groups, "round_seconds": round_seconds, "scrape_seconds": scrape_seconds,
            "scrape_bytes": size, "series": series,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.exporter_probe")
    parser.add_argument("--topics", type=int, default=2000)
    parser.add_argument("--partitions", type=int, default=5)
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    scale = Scale(args.topics, args.partitions, args.groups)
    with LocalKafka() as kafka:
        started = time.perf_counter()
        asyncio.run(build(kafka.bootstrap_servers, scale))
        built = round(time.perf_counter() - started, 1)
        result = asyncio.run(probe(kafka.bootstrap_servers, args.rounds))
    print(json.dumps({"scale": vars(args), "build_seconds": built, **result}))


if __name__ == "__main__":
    main()
