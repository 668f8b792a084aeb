"""SIGKILL the migrate command in the middle, run it again: every record lands exactly once,
including the ones the killed run wrote after its last checkpoint."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from aiokafka import AIOKafkaProducer

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.migrate import verify_migration
from kafka_sre_tui.engine.target.topic import end_offsets
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import create_topic, read_all
from tests.migrate_helpers import MIGRATE_CLI, ROOT, cluster_of, content, request, run

PARTITIONS, PER_PARTITION = 3, 8_000


def _checkpointed(states: Path) -> dict[int, int]:
    result = {}
    for path in states.glob("*/*/*/partitions/*.json"):
        doc = json.loads(path.read_text())
        result[doc["selection"]["target_partition"]] = doc["target_start"] + doc["written"]
    return result


async def _kill_when(target: ClusterConfig, topic: str, states: Path, cmd: list[str],
                     ready: Callable[[int, int], bool]) -> tuple[int, int]:
    """Run the command, SIGKILL it once ``ready(checkpointed, written)``; return (written, checkpointed)."""
    proc = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        async with KafkaSession(target) as session:
            deadline = time.monotonic() + 60
            while True:
                assert proc.returncode is None, (await proc.stderr.read()).decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the kill condition did not come within 60 s"
                marks = _checkpointed(states)
                if len(marks) == PARTITIONS:
                    ends = await end_offsets(session, topic, list(range(PARTITIONS)))
                    if ready(sum(marks.values()), sum(ends.values())):
                        break
                await asyncio.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    async with KafkaSession(target) as session:
        written = sum((await end_offsets(session, topic, list(range(PARTITIONS)))).values())
    return written, sum(_checkpointed(states).values())


async def test_sigkill_then_rerun_copies_every_record_once(kafka: LocalKafka, kafka2: LocalKafka, unique: str,
                                                          tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, PARTITIONS)
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5, max_batch_size=64 << 10)
    await producer.start()
    for i in range(PARTITIONS * PER_PARTITION):
        await producer.send(unique, os.urandom(400), key=f"k{i}".encode(), partition=i % PARTITIONS,
                            headers=[("n", str(i).encode())])
    await producer.stop()
    source, target = cluster_of(kafka, "a"), cluster_of(kafka2, "b")
    cmd = [*MIGRATE_CLI, "--source-cluster", bs, "--source-topic", unique, "--target-cluster",
           kafka2.bootstrap_servers, "--create-topic", "--rate-limit", "2", "--state-dir", str(tmp_path)]
    # 1st kill: nothing checkpointed beyond the plan, so every record written is found from the end offsets
    first = await _kill_when(target, unique, tmp_path, [*cmd, "--checkpoint-seconds", "1000"], lambda marks, end:
                             end > 1000)
    assert first[1] == 0 < first[0]
    # 2nd kill: after checkpoints that hold records (and, most often, more written after the last one)
    second = await _kill_when(target, unique, tmp_path, [*cmd, "--checkpoint-seconds", "1"], lambda marks, end:
                              marks > first[0] and end > marks + 500)
    assert first[0] < second[0] < PARTITIONS * PER_PARTITION  # killed in the middle, again
    assert second[1] > first[0] and second[0] >= second[1]

    result = await run(source, target, tmp_path, unique)
    assert result.metrics.skipped_on_resume == second[0] - second[1]
    expected, copied = await asyncio.gather(read_all(bs, unique), read_all(kafka2.bootstrap_servers, unique))
    for p in range(PARTITIONS):
        assert content(copied[p]) == content(expected[p]), f"partition {p}: not exactly once"
    assert (await verify_migration(source, target, request(tmp_path, unique))).ok
