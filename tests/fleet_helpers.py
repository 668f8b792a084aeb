"""Worker processes of one group writing a set into a local directory, slowed by --rate-limit so a test
can watch the fleet while it runs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from aiokafka import AIOKafkaProducer

from tests.kafka_helpers import create_topic

PARTITIONS = 4
RECORDS = 320
RECORD_BYTES = 4_000  # random: ~1.3 MB; at 0.05 MB/s per worker (64 kB per fetch), two workers take ~13 s


async def load_topic(bs: str, topic: str) -> None:
    await create_topic(bs, topic, PARTITIONS)
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5, max_batch_size=64 << 10)
    await producer.start()
    try:
        for i in range(RECORDS):
            await producer.send(topic, os.urandom(RECORD_BYTES), partition=i % PARTITIONS)
        await producer.flush()
    finally:
        await producer.stop()


@contextlib.contextmanager
def workers(bs: str, topic: str, base: Path, group: str, logs: Path, count: int = 2,
            rate_mb_s: float = 0.05) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` workers of ``group``; any still running at the end is stopped (SIGTERM, then SIGKILL)."""
    command = [sys.executable, "-m", "kafka_sre_tui", "backup", "--cluster", bs, "--topics", topic,
               "--backup-dir", str(base), "--workers-group", group, "--rate-limit", str(rate_mb_s),
               "--checkpoint-seconds", "1", "--compression", "none", "--name", "fleet"]
    started: list[subprocess.Popen[bytes]] = []
    try:
        for i in range(count):
            with (logs / f"worker{i}.out").open("wb") as out, (logs / f"worker{i}.err").open("wb") as err:
                started.append(subprocess.Popen(command, stdout=out, stderr=err))
        yield started
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in started:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def group_set(base: Path, group: str) -> str | None:
    """The set id the group's first run named, once a worker published it."""
    run = base / ".workers" / group / "00000001.json"
    return json.loads(run.read_text())["set_id"] if run.exists() else None
