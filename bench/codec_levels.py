"""Block codec trade-off: speed and stored size per codec, level and block size, on a real backup's batches.

    python -m bench.codec_levels BACKUP_DIR [--mb 200] [--levels zstd:1,zstd:3,lz4:0,...] [--block-kib 256,1024,4096]

Reads the raw record batches of a one-topic backup (as stored: the broker's batches), regroups them
into blocks of each size and compresses every block with each codec and level on one thread. Reports
MB/s of raw input per CPU second and the stored size relative to the raw bytes. Single-threaded CPU
time, so the figures compare with each other under any load; wall throughput of a backup also depends
on the fetch path and both cores (see ``python -m bench``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kafka_sre_tui.engine.storage.codecs import codec
from kafka_sre_tui.engine.storage.manifest import read_manifest
from kafka_sre_tui.engine.storage.reader import iter_batches

DEFAULT_LEVELS = "zstd:1,zstd:2,zstd:3,zstd:6,lz4:0,snappy:-,gzip:1,gzip:6"


def sample_batches(backup: Path, limit_bytes: int) -> list[bytes]:
    manifest, _intact = read_manifest(backup)
    batches: list[bytes] = []
    taken = 0
    for part in manifest.partitions:
        for _header, view in iter_batches(backup, part):
            batches.append(bytes(view))
            taken += len(view)
            if taken >= limit_bytes:
                return batches
    return batches


def blocks_of(batches: list[bytes], block_bytes: int) -> list[bytes]:
    blocks, current, size = [], [], 0
    for batch in batches:
        current.append(batch)
        size += len(batch)
        if size >= block_bytes:
            blocks.append(b"".join(current))
            current, size = [], 0
    if current:
        blocks.append(b"".join(current))
    return blocks


def measure(blocks: list[bytes], name: str, level: int | None) -> tuple[float, float]:
    """(MB/s of raw input per CPU second, stored ÷ raw)."""
    found, level = codec(name, level)
    raw = sum(len(b) for b in blocks)
    started = time.process_time()
    stored = sum(len(found.compress(b, level)) for b in blocks)
    seconds = max(time.process_time() - started, 1e-9)
    return raw / 1e6 / seconds, stored / raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backup", type=Path, help="a one-topic backup's directory")
    parser.add_argument("--mb", type=float, default=200.0, help="raw MB of batches to sample (default 200)")
    parser.add_argument("--levels", default=DEFAULT_LEVELS, help=f"codec:level list (default {DEFAULT_LEVELS})")
    parser.add_argument("--block-kib", default="256,1024,4096", help="block sizes in KiB (default 256,1024,4096)")
    args = parser.parse_args()
    batches = sample_batches(args.backup, int(args.mb * 1e6))
    raw_mb = sum(len(b) for b in batches) / 1e6
    print(f"{raw_mb:,.1f} MB of record batches from {args.backup}\n")
    print("| codec | level | block KiB | MB/s per CPU second | stored ÷ raw |")
    print("|---|---:|---:|---:|---:|")
    for kib in (int(k) for k in args.block_kib.split(",")):
        blocks = blocks_of(batches, kib << 10)
        for item in args.levels.split(","):
            name, _, level_text = item.partition(":")
            level = None if level_text in ("", "-") else int(level_text)
            speed, ratio = measure(blocks, name, level)
            print(f"| {name} | {'-' if level is None else level} | {kib} | {speed:,.0f} | {ratio:.3f} |", flush=True)


if __name__ == "__main__":
    main()
