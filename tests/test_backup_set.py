"""A backup set against the real broker: every selected topic (compacted, transactional with an
aborted transaction, empty) kept exactly as a read_committed consumer sees it, one set manifest with
their metadata and every group's offsets, progress per topic, resume, and the errors a user meets."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.set_events import SetEvent, SetProgress
from kafka_sre_tui.engine.backup.set_run import resume_set
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.jobs import Checkpointed
from kafka_sre_tui.engine.storage.backup_set import FULL, SET_MANIFEST, SET_PLAN, read_set_manifest
from kafka_sre_tui.engine.storage.manifest import read_manifest
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import consume_and_commit, create_topic, produce, read_all
from tests.set_helpers import back_up_set, member_folder, member_records


async def _three_topics(bs: str, prefix: str) -> None:
    await create_topic(bs, f"{prefix}-compact", 2, {"cleanup.policy": "compact", "segment.ms": "100",
                                                    "min.cleanable.dirty.ratio": "0.01"})
    await create_topic(bs, f"{prefix}-tx", 2)
    await create_topic(bs, f"{prefix}-empty", 3)
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=2)
    await producer.start()
    try:
        for i in range(600):  # 20 keys written 30 times: compaction leaves holes in the offsets
            await producer.send(f"{prefix}-compact", f"v{i}".encode(), key=f"k{i % 20}".encode(), partition=i % 2)
        await producer.flush()
    finally:
        await producer.stop()
    tx = AIOKafkaProducer(bootstrap_servers=bs, transactional_id=f"{prefix}-txid")
    await tx.start()
    try:
        for round_, commit in enumerate([True, False, True]):
            await tx.begin_transaction()
            for i in range(30):
                await tx.send(f"{prefix}-tx", f"{round_}-{i}".encode(), partition=i % 2)
            await (tx.commit_transaction() if commit else tx.abort_transaction())
    finally:
        await tx.stop()
    await consume_and_commit(bs, f"{prefix}-g1", f"{prefix}-tx", {0: 10, 1: 5})
    await consume_and_commit(bs, f"{prefix}-g2", f"{prefix}-compact", {0: 3})


async def test_a_set_keeps_every_topic_exactly(cluster: ClusterConfig, kafka: LocalKafka, unique: str,
                                              tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await _three_topics(bs, unique)
    await create_topic(bs, f"{unique}-internal", 1)  # excluded below
    events: list[SetEvent] = []
    result = await back_up_set(cluster, tmp_path, f"{unique}-*", events=events, exclude=("*-internal",),
                               name="nightly")
    m = result.manifest
    names = [f"{unique}-compact", f"{unique}-empty", f"{unique}-tx"]
    assert [member.name for member in m.members] == names
    assert result.set_id.split("-")[1] == "nightly" and m.kind == FULL
    assert m.chain == {"base": result.set_id, "parent": None, "link": 0}
    assert m.selection == {"topics": [f"{unique}-*"], "exclude": ["*-internal"], "all_topics": False,
                           "continuous": False}
    for name in names:
        expected = await read_all(bs, name)
        assert member_records(tmp_path, m, name) == expected, name
        member = m.member(name)
        assert member is not None and member.chain_start and member.topic["topic_id"]
        assert [p.records for p in member.partitions] == [len(expected[p]) for p in sorted(expected)]
        manifest, intact = read_manifest(member_folder(tmp_path, m, name))
        assert intact and manifest.extra == {"set_id": result.set_id}
    tx = await read_all(bs, f"{unique}-tx")
    assert sum(map(len, tx.values())) == 60  # the aborted transaction's 30 records are not kept
    compact = m.member(f"{unique}-compact")
    assert compact is not None and compact.topic["configs"]["cleanup.policy"] == "compact"
    assert m.consumer_groups[f"{unique}-g1"] == {f"{unique}-tx": {"0": 10, "1": 5}}
    assert m.consumer_groups[f"{unique}-g2"] == {f"{unique}-compact": {"0": 3}}
    assert read_set_manifest(result.path.local_dir())[1]  # type: ignore[arg-type]
    assert not (tmp_path / result.set_id / SET_PLAN).exists()
    progress = [e for e in events if isinstance(e, SetProgress)]
    assert progress and progress[-1].fraction == 1.0
    last = {t.topic: t for t in progress[-1].topics}
    assert last[f"{unique}-tx"].records == 60 and last[f"{unique}-empty"].offsets_total == 0
    assert progress[-1].records == m.records


async def test_an_empty_selection_is_refused_before_any_file(cluster: ClusterConfig, unique: str,
                                                             tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"no topic matches --topics '{unique}-nothing-\\*'"):
        await back_up_set(cluster, tmp_path, f"{unique}-nothing-*")
    assert list(tmp_path.iterdir()) == []


def test_memory_and_open_files_are_bounded_by_sealing_early() -> None:
    """Which partitions a leader's loop seals before their checkpoint is due: the full and the finished
    ones, then the fullest until open blocks and open files fit their budgets (1,200 partitions
    holding 1 MiB each would otherwise be 1.2 GB and 1,200 open files)."""
    from types import SimpleNamespace

    from kafka_sre_tui.engine.backup.fetch_loop import FetchSettings, to_seal_now

    def part(buffered: int, segment: int = 0, done: bool = False, full: bool = False) -> SimpleNamespace:
        return SimpleNamespace(writer=SimpleNamespace(buffered_bytes=buffered, segment_size=segment), done=done,
                               needs_checkpoint=full, holds_unsealed=buffered > 0 or segment > 0)

    settings = FetchSettings(fetch_max_bytes=1, partition_fetch_max_bytes=1, rate_limit_mb_s=None,
                             checkpoint_seconds=5, prefetch=True, memory_budget=1000, max_open_segments=3)
    finished, full, idle = part(10, done=True), part(0, 64 << 20, full=True), part(0)
    holding = [part(100 * i, 50) for i in range(1, 6)]  # 1,500 bytes in 5 partitions
    chosen = to_seal_now([finished, full, idle, *holding], settings)
    assert chosen[:2] == [finished, full] and idle not in chosen
    assert chosen[2:] == [holding[4], holding[3]]  # the fullest, until 3 hold 600 bytes
    assert to_seal_now([finished, idle], settings) == [finished]
    assert to_seal_now(holding[:3], settings) == []


async def test_an_interrupted_set_resumes_to_the_same_records(cluster: ClusterConfig, kafka: LocalKafka,
                                                             unique: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    for name in ("a", "b"):
        await create_topic(bs, f"{unique}-{name}", 2)
        producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5)
        await producer.start()
        for i in range(3000):
            await producer.send(f"{unique}-{name}", b"x" * 300, key=f"{i}".encode(), partition=i % 2)
        await producer.stop()
    events: list[SetEvent] = []
    job = asyncio.create_task(back_up_set(cluster, tmp_path, f"{unique}-*", events=events, rate_limit_mb_s=0.5,
                                          checkpoint_seconds=0.2))
    for _ in range(300):
        if any(isinstance(e, Checkpointed) for e in events):
            break
        await asyncio.sleep(0.05)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    [folder] = list(tmp_path.iterdir())
    assert (folder / SET_PLAN).exists() and not (folder / SET_MANIFEST).exists()
    result = await resume_set(cluster, tmp_path, folder.name)
    assert result.set_id == folder.name
    for name in ("a", "b"):
        assert member_records(tmp_path, result.manifest, f"{unique}-{name}") == await read_all(bs, f"{unique}-{name}")


def test_cli_backs_up_a_set_and_refuses_set_options_on_one_topic(kafka: LocalKafka, unique: str, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    bs = kafka.bootstrap_servers
    asyncio.run(create_topic(bs, f"{unique}-x", 1))
    asyncio.run(produce(bs, f"{unique}-x", {0: 7}))
    assert main(["backup", "--cluster", bs, "--backup-dir", str(tmp_path), "--topics", f"{unique}-*",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "full" and [t["topic"] for t in doc["topics"]] == [f"{unique}-x"]
    assert doc["topics"][0]["partitions"][0]["records"] == 7
    assert main(["backup", "--cluster", bs, "--backup-dir", str(tmp_path), "--topic", f"{unique}-x",
                 "--incremental"]) == 2
    assert "--incremental apply to a backup set: add --topics PATTERNS or --all-topics" in capsys.readouterr().err
    assert main(["backup", "--cluster", bs, "--backup-dir", str(tmp_path), "--topics", f"{unique}-none"]) == 2
    assert f"no topic matches --topics '{unique}-none'" in capsys.readouterr().err


async def test_an_encrypted_set_binds_each_member_to_its_own_id(cluster: ClusterConfig, kafka: LocalKafka,
                                                                unique: str, tmp_path: Path) -> None:
    from kafka_sre_tui.engine.storage.encryption import key_from_file, unlock_backup

    bs = kafka.bootstrap_servers
    for name in ("a", "b"):
        await create_topic(bs, f"{unique}-{name}", 1)
        await produce(bs, f"{unique}-{name}", {0: 40})
    (tmp_path / "key").write_text("8f" * 32 + "\n")
    key = key_from_file(tmp_path / "key")
    base = tmp_path / "backups"
    result = await back_up_set(cluster, base, f"{unique}-*", encryption_key=key)
    assert result.manifest.encryption == key.describe()
    for name in ("a", "b"):
        folder = member_folder(base, result.manifest, f"{unique}-{name}")
        manifest, _ = read_manifest(folder)
        assert manifest.format_version == 2 and manifest.encryption == key.describe()
        assert b"0-1" not in b"".join(p.read_bytes() for p in folder.rglob("*.kseg"))  # no plaintext
        unlock_backup(folder, key)
        assert member_records(base, result.manifest, f"{unique}-{name}") == await read_all(bs, f"{unique}-{name}")


def test_cli_resumes_an_interrupted_set_from_the_cluster_it_was_taken_from(
        cluster: ClusterConfig, kafka: LocalKafka, unique: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    bs = kafka.bootstrap_servers

    async def interrupted() -> str:
        await create_topic(bs, unique, 2)
        producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5)
        await producer.start()
        for i in range(4000):
            await producer.send(unique, b"y" * 300, partition=i % 2)
        await producer.stop()
        events: list[SetEvent] = []
        job = asyncio.create_task(back_up_set(cluster, tmp_path, unique, events=events, rate_limit_mb_s=0.3,
                                              checkpoint_seconds=0.2))
        while not any(isinstance(e, Checkpointed) for e in events):
            await asyncio.sleep(0.05)
        job.cancel()
        await asyncio.gather(job, return_exceptions=True)
        [folder] = list(tmp_path.iterdir())
        return folder.name

    set_id = asyncio.run(interrupted())
    assert main(["backup", "--backup-dir", str(tmp_path), "--resume", set_id]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == set_id
    manifest, intact = read_set_manifest(tmp_path / set_id)
    assert intact and manifest.records == 4000
    assert member_records(tmp_path, manifest, unique) == asyncio.run(read_all(bs, unique))
