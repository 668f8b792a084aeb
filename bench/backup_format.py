"""Why backups store Kafka's record batches as they come: measured against a per-record format.

    .venv/bin/python bench/backup_format.py [--records 100000] [--value-bytes 1024]

Starts a local broker, loads a topic (6 partitions, keys, two headers), then times in separate
processes: our backup (raw batches) per codec, and a per-record backup (decode every record with
aiokafka's consumer, re-encode key/value/headers/timestamp, zstd blocks). Prints MB/s, records/s
and each process's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiokafka import AIOKafkaProducer

from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import create_topic

PER_RECORD = r'''
import asyncio, struct, sys, time, zstandard
from aiokafka import AIOKafkaConsumer, TopicPartition
bootstrap, topic, out = sys.argv[1:4]
async def main():
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed", enable_auto_commit=False,
                         max_partition_fetch_bytes=8 << 20, fetch_max_bytes=32 << 20)
    await c.start()
    await c._client.force_metadata_update()
    tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic))]
    c.assign(tps); await c.seek_to_beginning(*tps); ends = await c.end_offsets(tps)
    z = zstandard.ZstdCompressor(level=3); buf = bytearray(); n = 0; raw = 0
    with open(out, "wb") as f:
        while any([await c.position(tp) < ends[tp] for tp in tps]):
            for tp, recs in (await c.getmany(timeout_ms=500)).items():
                for r in recs:
                    k, v = r.key or b"", r.value or b""
                    buf += struct.pack(">qqbii", r.offset, r.timestamp, r.timestamp_type, len(k), len(v)) + k + v
                    buf += struct.pack(">h", len(r.headers))
                    for hk, hv in r.headers:
                        hkb = hk.encode(); buf += struct.pack(">hi", len(hkb), len(hv or b"")) + hkb + (hv or b"")
                    n += 1
                    if len(buf) >= 1 << 20:
                        raw += len(buf); f.write(z.compress(bytes(buf))); buf = bytearray()
        raw += len(buf); f.write(z.compress(bytes(buf)))
    await c.stop()
    print(n, raw)
asyncio.run(main())
'''


async def load(bootstrap: str, topic: str, records: int, value_bytes: int) -> None:
    await create_topic(bootstrap, topic, 6)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=256 << 10,
                                max_request_size=4 << 20)
    await producer.start()
    value = os.urandom(value_bytes // 2).hex().encode()[:value_bytes]  # compressible like JSON, not trivially
    for i in range(records):
        await producer.send(topic, value, key=f"customer-{i % 10007}".encode(),
                            headers=[("trace-id", f"{i:016x}".encode()), ("source", b"bench")])
    await producer.flush()
    await producer.stop()


def timed(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MB) and stdout of a child process."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _pid, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        raise SystemExit(f"{cmd[:2]} failed with status {status}: {proc.stderr.read() if proc.stderr else ''}")
    return time.monotonic() - started, usage.ru_maxrss // 1024, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--value-bytes", type=int, default=1024)
    args = parser.parse_args()
    with LocalKafka(heap="1g") as kafka, tempfile.TemporaryDirectory() as tmp:
        bs = kafka.bootstrap_servers
        started = time.monotonic()
        asyncio.run(load(bs, "bench", args.records, args.value_bytes))
        print(f"loaded {args.records:,} records of {args.value_bytes} B in {time.monotonic() - started:.1f} s")
        rows = []
        for codec in ("none", "lz4", "zstd"):
            seconds, rss, out = timed([sys.executable, "-m", "kafka_sre_tui", "backup", "--cluster", bs, "--topic",
                                       "bench", "--backup-dir", tmp, "--compression", codec, "--json"])
            metrics = json.loads(out)["metrics"]
            rows.append((f"ours, raw batches, {codec}", seconds, metrics["bytes_read"], metrics["bytes_written"],
                         metrics["messages"], rss, metrics["throughput_mb_s"]))
        seconds, rss, out = timed([sys.executable, "-c", PER_RECORD, bs, "bench", str(Path(tmp) / "per-record")])
        count, raw = map(int, out.split())
        rows.append(("per-record re-encode, zstd", seconds, raw, (Path(tmp) / "per-record").stat().st_size, count,
                     rss, raw / 1e6 / seconds))
        print(f"{'method':32} {'wall s':>7} {'MB/s (wall)':>11} {'engine MB/s':>11} {'records/s':>10} "
              f"{'stored MB':>9} {'peak RSS MB':>11}")
        for name, seconds, read, written, count, rss, engine in rows:
            print(f"{name:32} {seconds:7.2f} {read / 1e6 / seconds:11.1f} {engine:11.1f} {count / seconds:10,.0f} "
                  f"{written / 1e6:9.1f} {rss:11}")


if __name__ == "__main__":
    main()
