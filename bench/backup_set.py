"""Backup set of many small topics: 200 topics x 6 partitions of small records by default, backed up
as one set by the CLI in a child process; its wall time and peak RSS (os.wait4's ru_maxrss).

    .venv/bin/python -m bench.backup_set [--topics 200] [--partitions 6] [--records 60]

``--records`` is per partition. Not part of the quick bench (it takes minutes: creating 1,200
partitions is most of it). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from aiokafka import AIOKafkaProducer

from bench.child import run_child
from bench.data import create_topics
from kafka_sre_tui.localkafka import LocalKafka


async def _fill(bootstrap: str, names: list[str], partitions: int, per_partition: int) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, acks=1)
    await producer.start()
    sent = 0
    try:
        for name in names:
            for p in range(partitions):
                for i in range(per_partition):
                    await producer.send(name, b"order %d of %s/%d" % (i, name.encode(), p), key=b"%d" % i,
                                        partition=p)
                    sent += 1
            if sent % 20_000 < per_partition * partitions:
                await producer.flush()
        await producer.flush()
    finally:
        await producer.stop()
    return sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backup_set", description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=200)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--records", type=int, default=60, help="records per partition")
    args = parser.parse_args(argv)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)  # retries while fresh partitions elect leaders
    names = [f"bench-set-{i:04d}" for i in range(args.topics)]
    with LocalKafka(heap="1g") as kafka, tempfile.TemporaryDirectory(prefix="ksre-bench-set-") as tmp:
        bs = kafka.bootstrap_servers
        started = time.monotonic()
        asyncio.run(create_topics(bs, names, args.partitions))
        records = asyncio.run(_fill(bs, names, args.partitions, args.records))
        load_seconds = time.monotonic() - started
        load = os.getloadavg()
        run = run_child([sys.executable, "-m", "kafka_sre_tui", "backup", "--cluster", bs, "--backup-dir",
                         str(Path(tmp) / "backups"), "--topics", "bench-set-*", "--name", "bench", "--json"])
        if not run.ok:
            print(run.failure(), file=sys.stderr)
            return 1
        doc = json.loads(run.stdout)
        print(json.dumps({
            "topics": args.topics, "partitions": args.topics * args.partitions, "records": records,
            "records_backed_up": doc["metrics"]["messages"], "seconds": round(run.seconds, 2),
            "engine_seconds": doc["metrics"]["duration_seconds"], "peak_rss_mb": round(run.peak_rss_mb, 1),
            "load_average_before": [round(x, 2) for x in load], "load_average_after": [round(x, 2) for x in
                                                                                         os.getloadavg()],
            "setup_seconds": round(load_seconds, 1)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
