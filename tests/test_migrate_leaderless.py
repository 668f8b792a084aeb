"""A migration whose source topic has a partition without a leader (replication factor 1, its node
stopped), on the 3-node cluster: the offsets of that partition are unknown, and a migration must not
plan it as empty and report done. It waits, showing why; it completes with every record once the node
is back; and when its retry window ends first it exits 1 with one line naming the partition, having
written nothing."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from pathlib import Path

import pytest

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.inspect.cluster import list_topics
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.localkafka import LocalKafkaCluster
from tests.kafka_helpers import create_topic, produce, read_all, wait_for
from tests.migrate_helpers import MIGRATE_CLI, content

pytestmark = pytest.mark.timeout(600)  # the first test of the 3-node cluster pays for starting it

PARTITIONS = 3


async def _leaders(config: ClusterConfig, topic: str) -> dict[int, int | None]:
    async with KafkaSession(config) as session:
        [found] = await list_topics(session, names=[topic])
    return {p.partition: p.leader for p in found.partitions}


def _lines(process: subprocess.Popen[str], into: list[str]) -> threading.Thread:
    def read() -> None:
        assert process.stderr is not None
        into.extend(process.stderr)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader


async def test_a_leaderless_source_partition_is_waited_for_not_copied_as_empty(
        kafka_cluster: LocalKafkaCluster, unique: str, tmp_path: Path) -> None:
    bs = kafka_cluster.bootstrap_servers
    config = ClusterConfig(name="three", bootstrap_servers=tuple(bs.split(",")), request_timeout_seconds=15)
    await create_topic(bs, unique, PARTITIONS, replicas=1)
    await produce(bs, unique, dict.fromkeys(range(PARTITIONS), 40))
    source = await read_all(bs, unique)
    leaders = await _leaders(config, unique)
    node = leaders[0]
    assert node is not None
    offline = sorted(p for p, n in leaders.items() if n == node)
    command = [*MIGRATE_CLI, "--source-cluster", bs, "--source-topic", unique, "--target-cluster", bs,
               "--target-topic", f"{unique}-m", "--create-topic", "--state-dir", str(tmp_path / "state")]
    partitions = f"partition(s) {', '.join(map(str, offline))} of '{unique}'"

    waiting: subprocess.Popen[str] | None = None
    lines: list[str] = []
    await asyncio.to_thread(kafka_cluster.node(node).stop, keep_data=True)
    try:
        try:
            for _ in range(60):
                now = await _leaders(config, unique)
                if all(now[p] is None for p in offline):
                    break
                await asyncio.sleep(0.5)
            else:
                raise AssertionError(f"partitions {offline} still have a leader 30 s after node {node} stopped")

            gave_up = await asyncio.to_thread(subprocess.run, [*command, "--retry-seconds", "3"],
                                              capture_output=True, text=True, timeout=120)
            assert gave_up.returncode == 1, gave_up.stdout + gave_up.stderr
            error = gave_up.stderr.strip().splitlines()[-1]
            assert error.startswith("error:") and partitions in error and "no leader answered" in error, \
                gave_up.stderr
            assert "Traceback" not in gave_up.stderr
            async with KafkaSession(config) as session:
                names = [t.name for t in await list_topics(session, with_offsets=False)]
            assert f"{unique}-m" not in names  # nothing was created, nothing written

            waiting = subprocess.Popen([*command, "--retry-seconds", "180"], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
            reader = _lines(waiting, lines)
            await wait_for(lambda: any(line.startswith("cluster away:") and partitions in line for line in lines),
                           "the migration to show it waits for the leaderless partitions", 60)
            assert waiting.poll() is None  # it waits: it did not call a copy of nothing done
        finally:
            await asyncio.to_thread(kafka_cluster.node(node).start)

        await asyncio.to_thread(waiting.wait, 180)
        reader.join(10)
        assert waiting.returncode == 0, "".join(lines)
    finally:
        if waiting is not None and waiting.poll() is None:
            waiting.kill()
            waiting.wait()
    migrated = await read_all(bs, f"{unique}-m")
    assert {p: content(r) for p, r in migrated.items()} == {p: content(r) for p, r in source.items()}
    assert sum(len(r) for r in migrated.values()) == 40 * PARTITIONS
