"""Worker processes of one Kafka group writing one backup set into a real S3 server (s3proxy) from a
3-broker cluster: one worker is killed with SIGKILL mid-run, another joins later, and a third is stalled
(SIGSTOP) past the session timeout and then woken; the set completes, every member verifies, every
topic's records equal the source's exactly (no gap, no duplicate), partitions were taken over from their
last durable offset, only the owners' segments remain, and the group never committed an offset."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.workers import SESSION_TIMEOUT_MS
from kafka_sre_tui.engine.backup.workers_label import is_workers_group
from kafka_sre_tui.engine.inspect.groups import committed_offsets_for_topics, describe_group
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.storage.backup_set import member_dir, read_set_manifest, set_dir
from kafka_sre_tui.engine.storage.manifest import read_manifest
from kafka_sre_tui.engine.storage.store import open_location
from kafka_sre_tui.engine.storage.verify import verify_backup
from kafka_sre_tui.localkafka import LocalKafkaCluster
from tests.backup_helpers import read_backup
from tests.kafka_helpers import create_topic, read_all
from tests.object_servers import S3Proxy

pytestmark = pytest.mark.timeout(420)  # starting the 3-broker cluster alone takes 30-140 s here

TOPICS = {"a": 6, "b": 3}
RECORDS_PER_PARTITION = 200
RECORD_BYTES = 4_000  # random: ~7 MB that does not compress


async def _load(bs: str, prefix: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5, max_batch_size=64 << 10)
    await producer.start()
    try:
        for name, partitions in TOPICS.items():
            await create_topic(bs, f"{prefix}-{name}", partitions, replicas=3)
            for i in range(RECORDS_PER_PARTITION * partitions):
                await producer.send(f"{prefix}-{name}", os.urandom(RECORD_BYTES), key=f"k{i}".encode(),
                                    partition=i % partitions)
        await producer.flush()
    finally:
        await producer.stop()


def _config(tmp_path: Path, s3proxy: S3Proxy) -> str:
    config = tmp_path / "config.toml"
    config.write_text(f'[backup.object_store]\nendpoint = "{s3proxy.endpoint}"\nregion = "us-east-1"\n'
                      'allow_http = true\nvirtual_hosted_style = false\n')
    return str(config)


def _owned_states(s3proxy: S3Proxy, bucket: str) -> list[str]:
    return [f for f in s3proxy.stored_files(bucket) if f.endswith("state.json")]


async def test_workers_share_a_set_through_a_kill_and_a_late_joiner(
        kafka_cluster: LocalKafkaCluster, unique: str, s3proxy: S3Proxy, s3_bucket: str, tmp_path: Path) -> None:
    bs = kafka_cluster.bootstrap_servers
    await _load(bs, unique)
    url, group = f"s3://{s3_bucket}/dr", f"{unique}-workers"
    command = [sys.executable, "-m", "kafka_sre_tui", "--config", _config(tmp_path, s3proxy), "backup",
               "--cluster", bs, "--topics", f"{unique}-*", "--backup-dir", url, "--workers-group", group,
               "--rate-limit", "0.4", "--checkpoint-seconds", "1", "--compression", "none"]

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    workers = [start() for _ in range(3)]
    deadline = time.monotonic() + 60
    while len(_owned_states(s3proxy, s3_bucket)) < 5 and time.monotonic() < deadline:  # all at work
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)
    assert all(w.poll() is None for w in workers), [w.communicate() for w in workers if w.poll() is not None]
    victim = workers.pop(0)
    victim.send_signal(signal.SIGKILL)  # its partitions hold durable progress and open uploads
    victim.wait(10)
    await asyncio.sleep(1)
    workers.append(start())  # a late joiner: the group rebalances onto it
    async with KafkaSession(ClusterConfig(name="t", bootstrap_servers=tuple(bs.split(",")))) as session:
        assert is_workers_group(await describe_group(session, group))  # the groups pane labels it "backup workers"
    stale = workers[0]
    stale.send_signal(signal.SIGSTOP)  # a stalled worker: thrown out of the group while it holds partitions
    await asyncio.sleep(SESSION_TIMEOUT_MS / 1000 + 3)
    stale.send_signal(signal.SIGCONT)  # it wakes with unsaved progress on partitions that moved: fenced

    outputs = [await asyncio.to_thread(w.communicate, timeout=150) for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0], outputs
    set_ids = {out.strip().splitlines()[-1] for out, _err in outputs}
    assert len(set_ids) == 1, outputs  # one set, sealed once, seen by every worker
    [set_id] = set_ids
    assert all("backing up" in err for _out, err in outputs)

    base = open_location(url, s3proxy.options())
    manifest, intact = read_set_manifest(set_dir(base, set_id))
    assert intact and sorted(m.name for m in manifest.members) == [f"{unique}-a", f"{unique}-b"]
    moved = 0
    for member in manifest.members:
        folder = member_dir(set_dir(base, set_id), member.member_id)
        assert verify_backup(folder).intact
        assert read_backup(folder) == await read_all(bs, member.name)  # type: ignore[arg-type]
        for part in read_manifest(folder)[0].partitions:
            generations = {re.search(r"-g(\d+)\.kseg$", s.file).group(1) for s in part.segments}  # type: ignore[union-attr]
            moved += len(generations) > 1
            starts = [s.first_offset for s in part.segments]
            assert starts == sorted(starts) and part.records == RECORDS_PER_PARTITION
    assert moved >= 1  # at least one partition was continued by a later owner
    leftovers = [f for f in s3proxy.stored_files(s3_bucket) if f.endswith(("state.json", ".tmp", "set-plan.json"))]
    assert leftovers == []
    listed = {f"dr/{set_id}/topics/{m.member_id}/{s.file}" for m in manifest.members
              for p in read_manifest(member_dir(set_dir(base, set_id), m.member_id))[0].partitions for s in p.segments}
    stored = {f for f in s3proxy.stored_files(s3_bucket) if f.endswith(".kseg")}
    assert stored == listed  # a fenced owner's late segments were never listed, and were deleted

    async with KafkaSession(ClusterConfig(name="t", bootstrap_servers=tuple(bs.split(",")))) as session:
        committed = await committed_offsets_for_topics(session, [m.name for m in manifest.members])
    assert group not in committed  # membership only: no offset a real consumer could be mistaken for

    verified = await asyncio.to_thread(main, ["--config", _config(tmp_path, s3proxy), "verify", set_id,
                                              "--backup-dir", url])
    assert verified == 0  # every member, its records against set.json, and set.json's checksum

    restored = await asyncio.to_thread(main, ["--config", _config(tmp_path, s3proxy), "restore", "--cluster", bs,
                                              "--backup-dir", url, "--backup-id", set_id, "--topic-prefix", "r."])
    assert restored == 0
    for member in manifest.members:  # the set a group wrote restores to the source topics exactly
        assert await read_all(bs, f"r.{member.name}") == await read_all(bs, member.name)


async def test_workers_n_starts_processes_on_this_host(kafka_cluster: LocalKafkaCluster, unique: str,
                                                       tmp_path: Path) -> None:
    """``--workers 2`` into a local directory: two processes, one set, the parent prints it and
    fails when a worker fails."""
    bs = kafka_cluster.bootstrap_servers
    for name, partitions in TOPICS.items():
        await create_topic(bs, f"{unique}-{name}", partitions, replicas=3)
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5)
    await producer.start()
    for i in range(300):
        await producer.send(f"{unique}-{'ab'[i % 2]}", f"v{i}".encode(), partition=i % 3)
    await producer.stop()
    command = [sys.executable, "-m", "kafka_sre_tui", "backup", "--cluster", bs, "--topics", f"{unique}-*",
               "--backup-dir", str(tmp_path / "b"), "--workers", "2", "--name", "fleet", "--json"]
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count(" complete\n") == 2 and "backing up" in done.stderr  # two workers, one set
    set_id = json.loads(done.stdout)["set_id"]
    base = open_location(tmp_path / "b")
    manifest, intact = read_set_manifest(set_dir(base, set_id))
    assert intact and manifest.metrics["messages"] == 300
    for member in manifest.members:
        assert read_backup(member_dir(set_dir(base, set_id), member.member_id)) == await read_all(bs, member.name)  # type: ignore[arg-type]

    nothing = [*command[:7], f"nosuch-{unique}", *command[8:]]  # every worker fails: no topic matches
    bad = await asyncio.to_thread(subprocess.run, nothing, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and bad.stderr.count("no topic matches") == 2, bad.stderr
    assert "error: worker 1 (pid" in bad.stderr
