"""Backup to a local S3 server (s3proxy, filesystem provider) against backup to local disk, same topic.

``python -m bench.object_store [--records N] [--repeats R] [--codec C]``: loads the bench topic
(``bench.orders``, the main benchmark's data) into a fresh broker, then alternates ``kafka-sre-tui backup``
into a directory and into ``s3://bench/dr`` on s3proxy, as child processes, and prints time, MB/s (topic
log bytes per second, as the main benchmark) and peak RSS per row, and the S3 / disk throughput ratio.
s3proxy comes from ``tests/object_servers.py`` (fetched with Maven once, like Kafka's jars).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench.child import ChildRun, run_child
from bench.data import Records, load_topic
from bench.run import TOPIC, topic_log_bytes
from bench.settings import DEFAULT_CODEC, Settings
from kafka_sre_tui.localkafka import LocalKafka
from tests.object_servers import S3Proxy, s3_environment


def _backup(config: Path, bootstrap: str, where: str, codec: str, env: dict[str, str]) -> ChildRun:
    cmd = [sys.executable, "-m", "kafka_sre_tui", "backup", "--config", str(config), "--cluster", bootstrap,
           "--topic", TOPIC, "--backup-dir", where, "--compression", codec, "--checkpoint-seconds", "5", "--json"]
    run = run_child(cmd, env=env)
    if not run.ok:
        raise SystemExit(run.failure())
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.object_store")
    parser.add_argument("--records", type=int, default=Settings.records)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--codec", default=DEFAULT_CODEC)
    args = parser.parse_args(argv)
    settings = Settings(records=args.records)
    with LocalKafka(heap="1g") as kafka, tempfile.TemporaryDirectory(prefix="ksre-bench-s3-") as tmp:
        workdir = Path(tmp)
        asyncio.run(load_topic(kafka.bootstrap_servers, TOPIC, settings.records, settings.partitions,
                               Records(settings.value_bytes), settings.batch_kib))
        log_bytes = topic_log_bytes(kafka, TOPIC)
        server = S3Proxy(workdir / "s3")
        (workdir / "s3").mkdir()
        server.start()
        try:
            server.create_bucket("bench")
            config = workdir / "config.toml"
            config.write_text(f'[backup]\nmax_concurrent_backups = 8\n[backup.object_store]\nendpoint = '
                              f'"{server.endpoint}"\nregion = "us-east-1"\nallow_http = true\n'
                              "virtual_hosted_style = false\n")
            env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **s3_environment()}
            rows: dict[str, list[ChildRun]] = {"disk": [], "s3proxy": []}
            for n in range(args.repeats):  # alternated, so a slow spell of the shared machine hits both
                rows["disk"].append(_backup(config, kafka.bootstrap_servers, str(workdir / "disk"), args.codec, env))
                rows["s3proxy"].append(_backup(config, kafka.bootstrap_servers, "s3://bench/dr", args.codec, env))
                print(f"round {n + 1}: disk {rows['disk'][-1].seconds:.2f} s, "
                      f"s3proxy {rows['s3proxy'][-1].seconds:.2f} s", flush=True)
        finally:
            server.stop()
    print(f"topic {TOPIC}: {settings.records:,} records, {log_bytes / 1e6:,.0f} MB log, codec {args.codec}")
    mb_s = {}
    for name, runs in rows.items():
        median = statistics.median(r.seconds for r in runs)
        mb_s[name] = log_bytes / 1e6 / median
        print(f"backup {args.codec} to {name:8s} median {median:6.2f} s  {mb_s[name]:7.1f} MB/s  "
              f"peak RSS {max(r.peak_rss_mb for r in runs):5.0f} MB  ({len(runs)} runs)")
    print(f"s3proxy / disk throughput: {mb_s['s3proxy'] / mb_s['disk']:.2f}x (goal: at least 0.8x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
