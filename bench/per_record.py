"""Child process: the design alternative to our raw-batch backups — decode every record with aiokafka's
consumer and re-encode offset, timestamp, key, value and headers into zstd blocks. Kept as a reference
row: it is why backups store the broker's batches as they come (docs/backup-format.md).

    python -m bench.per_record BOOTSTRAP TOPIC OUT   -> "records raw_bytes" on stdout
"""

from __future__ import annotations

import asyncio
import struct
import sys

import zstandard
from aiokafka import AIOKafkaConsumer, TopicPartition


async def backup(bootstrap: str, topic: str, out: str) -> tuple[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed",
                                enable_auto_commit=False, max_partition_fetch_bytes=8 << 20, fetch_max_bytes=32 << 20)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        compressor, buf, count, raw = zstandard.ZstdCompressor(level=3), bytearray(), 0, 0
        with open(out, "wb") as f:  # noqa: ASYNC230 - blocking writes, as the simple per-record tool it models
            while any([await consumer.position(tp) < ends[tp] for tp in tps]):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for r in records:
                        key, value = r.key or b"", r.value or b""
                        buf += struct.pack(">qqbii", r.offset, r.timestamp, r.timestamp_type, len(key), len(value))
                        buf += key + value + struct.pack(">h", len(r.headers))
                        for hk, hv in r.headers:
                            name = hk.encode()
                            buf += struct.pack(">hi", len(name), len(hv or b"")) + name + (hv or b"")
                        count += 1
                        if len(buf) >= 1 << 20:
                            raw += len(buf)
                            f.write(compressor.compress(bytes(buf)))
                            buf = bytearray()
            raw += len(buf)
            f.write(compressor.compress(bytes(buf)))
        return count, raw
    finally:
        await consumer.stop()


if __name__ == "__main__":
    print(*asyncio.run(backup(*sys.argv[1:4])))
