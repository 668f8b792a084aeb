"""SIGKILL at the last steps of a job, where a crash is easiest to get wrong: during the backup's final
manifest write, and during the group-offset commits of a restore and of a migration. The rerun or
resume completes exactly once: every record once, every group at its right offsets.

The kill lands at a known point without any hook in the tool: the manifest's temporary file is made a
FIFO, so the backup blocks opening it (seen in ``/proc/PID/task/*/wchan``), and the commits are watched
in the audit log, which records each group's commit as it happens."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.audit import ENV_VAR as AUDIT_ENV_VAR
from kafka_sre_tui.engine.backup.catalog import list_backups
from kafka_sre_tui.engine.inspect.groups import committed_offsets_for_topic
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.storage.manifest import read_manifest
from kafka_sre_tui.engine.storage.verify import verify_backup
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup, read_backup
from tests.kafka_helpers import create_topic, read_all
from tests.migrate_helpers import cluster_of, run
from tests.restore_helpers import restore

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "kafka_sre_tui"]
PARTITIONS = 3
GROUPS = 40  # one commit each, a few tens of ms apiece: the kill lands among them, not after them


async def _load(bs: str, topic: str, per_partition: int, value_size: int) -> None:
    await create_topic(bs, topic, PARTITIONS)
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5, max_batch_size=64 << 10)
    await producer.start()
    for i in range(PARTITIONS * per_partition):
        await producer.send(topic, os.urandom(value_size), key=f"k{i}".encode(), partition=i % PARTITIONS)
    await producer.stop()


def _group_offsets(group: int, per_partition: int) -> dict[int, int]:
    """Where group ``group`` has committed on the source: different for every group and partition."""
    return {p: 1 + (group * 37 + p * 11) % per_partition for p in range(PARTITIONS)}


async def _commit_groups(bs: str, topic: str, prefix: str, count: int, per_partition: int) -> dict[str, dict[int, int]]:
    limit = asyncio.Semaphore(8)

    async def commit(group: str, offsets: dict[int, int]) -> None:
        async with limit:
            consumer = AIOKafkaConsumer(bootstrap_servers=bs, group_id=group, enable_auto_commit=False)
            await consumer.start()
            try:
                tps = {TopicPartition(topic, p): o for p, o in offsets.items()}
                consumer.assign(list(tps))
                await consumer.commit(tps)
            finally:
                await consumer.stop()

    wanted = {f"{prefix}-g{i:02d}": _group_offsets(i, per_partition) for i in range(count)}
    await asyncio.gather(*(commit(g, o) for g, o in wanted.items()))
    return wanted


async def _committed(cluster: ClusterConfig, topic: str) -> dict[str, dict[int, int]]:
    async with KafkaSession(cluster) as session:
        return await committed_offsets_for_topic(session, topic)


def _kill_when(cmd: list[str], ready: Callable[[subprocess.Popen[bytes]], bool], env: dict[str, str] | None = None,
               seconds: float = 90) -> None:
    """Run the command; SIGKILL it as soon as ``ready(process)`` holds, failing if it ends first."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + seconds
        while not ready(proc):
            assert proc.poll() is None, f"ended before the kill point: {proc.stderr.read().decode()}"  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the kill point did not come"
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)


def _blocked_opening_a_fifo(pid: int) -> bool:
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "wchan").read_text() == "wait_for_partner":
                return True
        except OSError:
            continue  # a thread that just ended
    return False


def _commits_ok(audit_log: Path, action: str) -> int:
    if not audit_log.exists():
        return 0
    lines = [json.loads(line) for line in audit_log.read_text().splitlines()]
    return sum(1 for e in lines if e["action"] == action and e["result"] == "ok")


def test_kill_during_the_final_manifest_write_then_resume(kafka: LocalKafka, unique: str, tmp_path: Path) -> None:
    bs, per_partition = kafka.bootstrap_servers, 2_000
    asyncio.run(_load(bs, unique, per_partition, 400))
    groups = asyncio.run(_commit_groups(bs, unique, unique, 3, per_partition))
    base = tmp_path / "backups"
    fifo: list[Path] = []

    def in_the_manifest_write(proc: subprocess.Popen[bytes]) -> bool:
        if not fifo:  # the backup's folder exists from its start: its manifest's temporary file becomes a FIFO
            folders = list(base.glob("*-*-*"))
            if folders:
                fifo.append(folders[0] / "manifest.json.tmp")
                os.mkfifo(fifo[0], 0o600)
            return False
        return _blocked_opening_a_fifo(proc.pid)

    _kill_when([*CLI, "backup", "--cluster", bs, "--topic", unique, "--backup-dir", str(base), "--rate-limit", "1",
                "--checkpoint-seconds", "0.2"], in_the_manifest_write)
    [killed] = list_backups(base)
    assert killed.status == "incomplete" and killed.records == PARTITIONS * per_partition  # all durable, no manifest
    assert not (killed.path / "manifest.json").exists()
    fifo[0].unlink()  # what a kill in the middle of write() leaves: half a manifest under the temporary name
    fifo[0].write_text('{"backup_id": "' + killed.backup_id + '", "partitions": [{"partit')

    assert main(["backup", "--resume", killed.backup_id, "--backup-dir", str(base)]) == 0
    [done] = list_backups(base)
    assert done.status == "complete" and done.records == PARTITIONS * per_partition
    assert read_backup(done.path) == asyncio.run(read_all(bs, unique))  # every record once
    assert verify_backup(done.path).intact
    manifest, intact = read_manifest(done.path)
    assert intact and manifest.consumer_groups == {g: {str(p): o for p, o in offsets.items()}
                                                   for g, offsets in groups.items()}
    assert not list(done.path.rglob("*.tmp")) and not list(done.path.rglob("state.json"))


def test_kill_during_the_group_offset_commits_of_a_restore_then_resume(kafka: LocalKafka, cluster: ClusterConfig,
                                                                       unique: str, tmp_path: Path) -> None:
    bs, per_partition, target = kafka.bootstrap_servers, 300, f"{unique}-r"
    asyncio.run(_load(bs, unique, per_partition, 100))
    groups = asyncio.run(_commit_groups(bs, unique, unique, GROUPS, per_partition))
    done = asyncio.run(backup(cluster, unique, tmp_path))
    audit_log = tmp_path / "audit.log"

    _kill_when([*CLI, "restore", "--cluster", bs, "--backup-dir", str(tmp_path), "--backup-id", done.backup_id,
                "--target-topic", target, "--create-topic", "--restore-consumer-offsets"],
               lambda _proc: _commits_ok(audit_log, "restore.commit_offsets") >= 1, {AUDIT_ENV_VAR: str(audit_log)})
    at_kill = asyncio.run(_committed(cluster, target))
    assert 1 <= len(at_kill) < GROUPS, f"{len(at_kill)} of {GROUPS} groups committed: not killed among the commits"

    resumed = asyncio.run(restore(cluster, tmp_path, done.backup_id, target_topic=target, resume=True))
    assert resumed.metrics is None  # every record was written before the kill: none again
    assert all(c.committed for c in resumed.groups) and len(resumed.groups) == GROUPS
    assert asyncio.run(_committed(cluster, target)) == groups  # each group where it was on the source
    assert asyncio.run(read_all(bs, target)) == asyncio.run(read_all(bs, unique))  # every record once, same offsets


def test_kill_during_the_group_offset_commits_of_a_migration_then_rerun(kafka: LocalKafka, kafka2: LocalKafka,
                                                                        unique: str, tmp_path: Path) -> None:
    bs, per_partition = kafka.bootstrap_servers, 300
    asyncio.run(_load(bs, unique, per_partition, 100))
    groups = asyncio.run(_commit_groups(bs, unique, unique, GROUPS, per_partition))
    source, target = cluster_of(kafka, "a"), cluster_of(kafka2, "b")
    audit_log = tmp_path / "audit.log"

    _kill_when([*CLI, "migrate", "--source-cluster", bs, "--source-topic", unique, "--target-cluster",
                kafka2.bootstrap_servers, "--create-topic", "--all-groups", "--no-verify", "--state-dir",
                str(tmp_path / "state")],
               lambda _proc: _commits_ok(audit_log, "migrate.commit_offsets") >= 1, {AUDIT_ENV_VAR: str(audit_log)})
    at_kill = asyncio.run(_committed(target, unique))
    assert 1 <= len(at_kill) < GROUPS, f"{len(at_kill)} of {GROUPS} groups committed: not killed among the commits"

    rerun = asyncio.run(run(source, target, tmp_path / "state", unique, groups=()))
    assert rerun.metrics.records == 0  # every record was copied before the kill: none again
    assert all(c.committed for c in rerun.groups) and len(rerun.groups) == GROUPS
    assert asyncio.run(_committed(target, unique)) == groups  # each group where it is on the source
    assert asyncio.run(read_all(kafka2.bootstrap_servers, unique)) == asyncio.run(read_all(bs, unique))
