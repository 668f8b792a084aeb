"""Backup set throughput with 1, 2 and 3 worker processes of one group (``backup --workers N``) on this
host: one local broker, one topic of ``--partitions`` partitions holding ``--mb`` MB of half-compressible
records, backed up with zstd into a fresh local directory per run. Wall time includes starting the
processes and joining the group (about a second or two of each run).

    .venv/bin/python -m bench.backup_workers [--partitions 12] [--mb 200] [--workers 1,2,3]

Not part of the quick bench. Prints one JSON object (with the load average before and after).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiokafka import AIOKafkaProducer

from bench.data import create_topics
from kafka_sre_tui.localkafka import LocalKafka

TOPIC = "bench-workers"
RECORD_BYTES = 1_000


async def _fill(bootstrap: str, partitions: int, mb: int) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, acks=1, max_batch_size=256 << 10)
    await producer.start()
    count = mb * 1_000_000 // RECORD_BYTES
    try:
        for i in range(count):  # half random, half repeated: zstd has work to do
            value = os.urandom(RECORD_BYTES // 2) + b"x" * (RECORD_BYTES // 2)
            await producer.send(TOPIC, value, key=b"%d" % i, partition=i % partitions)
        await producer.flush()
    finally:
        await producer.stop()
    return count


def _loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backup_workers", description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--workers", default="1,2,3")
    args = parser.parse_args(argv)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    result: dict[str, object] = {"cores": os.cpu_count(), "partitions": args.partitions, "mb": args.mb,
                                 "load_before": _loadavg(), "runs": []}
    with LocalKafka(heap="1g") as kafka, tempfile.TemporaryDirectory(prefix="ksre-bench-workers-") as tmp:
        bs = kafka.bootstrap_servers
        asyncio.run(create_topics(bs, [TOPIC], args.partitions))
        result["records"] = asyncio.run(_fill(bs, args.partitions, args.mb))
        for n in (int(w) for w in args.workers.split(",")):
            command = [sys.executable, "-m", "kafka_sre_tui", "backup", "--cluster", bs, "--topics", TOPIC,
                       "--backup-dir", str(Path(tmp) / f"w{n}"), "--workers", str(n), "--workers-group",
                       f"bench-{n}-{time.time_ns()}", "--json"]
            started = time.monotonic()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            seconds = time.monotonic() - started
            if done.returncode:
                print(done.stderr, file=sys.stderr)
                return 1
            metrics = json.loads(done.stdout)["metrics"]
            runs: list[object] = result["runs"]  # type: ignore[assignment]
            runs.append({"workers": n, "wall_seconds": round(seconds, 2),
                         "mb_per_second": round(metrics["bytes_read"] / 1e6 / seconds, 1),
                         "load_after": _loadavg()})
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
