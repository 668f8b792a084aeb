"""kill -9 in the middle of a restore, then --resume: every record lands exactly once, including the
ones the killed run wrote after its last checkpoint."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaProducer

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.target.topic import end_offsets
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup
from tests.kafka_helpers import create_topic, read_all
from tests.restore_helpers import restore

ROOT = Path(__file__).resolve().parent.parent
PARTITIONS, PER_PARTITION = 3, 10_000


async def _load(bs: str, topic: str) -> None:
    await create_topic(bs, topic, PARTITIONS)
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5, max_batch_size=64 << 10)
    await producer.start()
    for i in range(PARTITIONS * PER_PARTITION):
        await producer.send(topic, os.urandom(400), key=f"k{i}".encode(), partition=i % PARTITIONS,
                            headers=[("n", str(i).encode())])
    await producer.stop()


def _checkpointed(states: Path) -> dict[int, int]:
    """target partition -> the offset up to which the checkpoints account for records."""
    result = {}
    for path in states.glob("*/*/*/partitions/*.json"):
        doc = json.loads(path.read_text())
        result[doc["selection"]["target_partition"]] = doc["target_start"] + doc["written"]
    return result


async def test_kill_9_then_resume_writes_every_record_once(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                           tmp_path: Path) -> None:
    bs, target = kafka.bootstrap_servers, f"{unique}-r"
    await _load(bs, unique)
    done = await backup(cluster, unique, tmp_path)
    states = tmp_path / ".restores"
    cmd = [sys.executable, "-m", "kafka_sre_tui", "restore", "--cluster", bs, "--backup-dir", str(tmp_path),
           "--backup-id", done.backup_id, "--target-topic", target, "--create-topic", "--rate-limit", "2",
           "--checkpoint-seconds", "3"]
    proc = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        async with KafkaSession(cluster) as session:
            deadline = time.monotonic() + 60
            while True:  # kill once a checkpoint holds some records and more have been written since
                assert proc.returncode is None, (await proc.stderr.read()).decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "no checkpoint followed by more writes within 60 s"
                marks = _checkpointed(states)
                if len(marks) == PARTITIONS and sum(marks.values()) > 0:
                    ends = await end_offsets(session, target, list(range(PARTITIONS)))
                    # read again after that round trip (long under load), then kill at once: a checkpoint
                    # taken meanwhile must not cover every record written
                    if sum(ends.values()) > sum(_checkpointed(states).values()) + 1000:
                        break
                await asyncio.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    marks = _checkpointed(states)
    async with KafkaSession(cluster) as session:
        ends = await end_offsets(session, target, list(range(PARTITIONS)))
    written_before = sum(ends.values())
    assert 0 < written_before < PARTITIONS * PER_PARTITION  # killed in the middle
    after_checkpoint = written_before - sum(marks.values())
    assert after_checkpoint > 0  # the case that needs the end offsets: written, not checkpointed

    resumed = await restore(cluster, tmp_path, done.backup_id, target_topic=target, resume=True, rate_limit_mb_s=4)
    assert resumed.metrics is not None and resumed.metrics.skipped_on_resume == after_checkpoint
    assert 0 < resumed.metrics.throughput_mb_s <= 4  # the rate limit holds
    assert resumed.metrics.messages == PARTITIONS * PER_PARTITION - written_before
    assert await read_all(bs, target) == await read_all(bs, unique)  # every record once, in order, same offsets
