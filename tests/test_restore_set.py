"""Restore of a backup set and its chain to another cluster, to a point in time: a compacted, a
transactional (with an aborted transaction), an empty and a LogAppendTime topic next to a plain one,
backed up, incremented with traffic in between (retention deleting the start of a partition between
two links), then restored: the records up to the time, every group resuming at its next unread
record, the links after the time not read; a dry run writes nothing; a failed restore resumed writes
nothing twice; a missing link is named."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.set_plan import SetRequest
from kafka_sre_tui.engine.backup.set_run import backup_set
from kafka_sre_tui.engine.errors import ConfigError, KsreError
from kafka_sre_tui.engine.kafka.offset_map import OffsetMap
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.restore.set_events import SetRestoreProgress, SetRestoreResult
from kafka_sre_tui.engine.restore.set_request import SetRestoreRequest
from kafka_sre_tui.engine.restore.set_restore import restore_set
from kafka_sre_tui.engine.storage.backup_set import SET_MANIFEST, SetManifest
from kafka_sre_tui.engine.storage.encryption import key_from_env
from kafka_sre_tui.engine.target.topic import end_offsets
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import Record, create_topic, read_all
from tests.restore_helpers import cluster_of

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Chain:
    links: list[SetManifest]
    names: dict[str, str]  # role -> topic name
    counts: dict[str, int]  # topic -> partitions
    cut_ms: int  # the point in time: between the traffic of link 2
    seen: dict[str, dict[int, dict[int, Record]]]  # topic -> partition -> offset -> record, as backed up


async def backup_link(cluster: ClusterConfig, base: Path, topics: dict[str, int], parent: SetManifest | None,
                      **options: object) -> SetManifest:
    """One link of a set of ``topics`` (name -> partition count): the full set, or an increment of ``parent``."""
    request = SetRequest(base_path=base, topics=tuple(sorted(topics)),  # type: ignore[arg-type]
                         incremental_from=parent.set_id if parent else None, **options)
    return (await backup_set(cluster, request)).manifest


async def _send(bs: str, topic: str, partitions: int, start: int, count: int, keys: int | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=2)
    await producer.start()
    try:
        for i in range(start, start + count):
            key = f"k{i % keys if keys else i}".encode()
            await producer.send(topic, f"v{i}".encode(), key=key, partition=i % partitions,
                                headers=[("n", str(i).encode()), ("empty", None)])  # type: ignore[list-item]
        await producer.flush()
    finally:
        await producer.stop()


async def _transactions(bs: str, topic: str, tag: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bs, transactional_id=f"{topic}-tx")
    await producer.start()
    try:
        for round_, commit in enumerate([True, False, True]):
            await producer.begin_transaction()
            for i in range(10):
                await producer.send(topic, f"{tag}-{round_}-{i}-{'c' if commit else 'a'}".encode(),
                                    key=str(i).encode(), partition=i % 2)
            await (producer.commit_transaction() if commit else producer.abort_transaction())
    finally:
        await producer.stop()


async def _traffic(bs: str, names: dict[str, str], round_: int) -> None:
    await _send(bs, names["plain"], 2, round_ * 100, 40)
    await _send(bs, names["compacted"], 1, round_ * 100, 30, keys=7)
    await _send(bs, names["appended"], 1, round_ * 100, 10)
    await _transactions(bs, names["tx"], f"r{round_}")


async def _commit(bs: str, group: str, topic: str, offsets: dict[int, int]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bs, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in offsets])
        await consumer.commit({TopicPartition(topic, p): o for p, o in offsets.items()})
    finally:
        await consumer.stop()


async def _first_read(bs: str, group: str, topic: str, partition: int) -> tuple[int, Record | None]:
    """The committed offset of ``group`` on the partition, and the first record its consumer gets."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bs, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="none")
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        committed = await consumer.committed(tp)
        assert committed is not None, f"group {group} has no commit on {topic}/{partition}"
        if committed >= (await consumer.end_offsets([tp]))[tp]:
            return committed, None
        batch = await consumer.getone(tp)
        return committed, (batch.offset, batch.timestamp, batch.timestamp_type, batch.key, batch.value,
                           tuple(batch.headers))
    finally:
        await consumer.stop()


async def _snapshot(bs: str, chain: Chain) -> None:
    """What the next link backs up, read from the source as a consumer sees it (the ground truth)."""
    for topic in chain.counts:
        for p, records in (await read_all(bs, topic)).items():
            chain.seen.setdefault(topic, {}).setdefault(p, {}).update({r[0]: r for r in records})


async def _build_chain(kafka: LocalKafka, unique: str, base: Path) -> Chain:
    bs, cluster = kafka.bootstrap_servers, cluster_of(kafka, "source")
    names = {role: f"{unique}-{role}" for role in ("plain", "compacted", "tx", "empty", "appended", "g-plain", "g-tx")}
    counts = {names["plain"]: 2, names["compacted"]: 1, names["tx"]: 2, names["empty"]: 1, names["appended"]: 1}
    await create_topic(bs, names["plain"], 2)
    await create_topic(bs, names["compacted"], 1, {"cleanup.policy": "compact"})
    await create_topic(bs, names["tx"], 2)
    await create_topic(bs, names["empty"], 1, {"retention.ms": "86400000"})
    await create_topic(bs, names["appended"], 1, {"message.timestamp.type": "LogAppendTime"})
    chain = Chain([], names, counts, 0, {})

    async def link() -> None:
        await _snapshot(bs, chain)
        chain.links.append(await backup_link(cluster, base, counts, chain.links[-1] if chain.links else None))

    await _traffic(bs, names, 0)
    await _commit(bs, chain.names["g-plain"], names["plain"], {0: 5, 1: 7})
    await link()  # link 0: the full set
    await _traffic(bs, names, 1)
    await link()  # link 1
    await _traffic(bs, names, 2)
    await asyncio.sleep(0.05)
    chain.cut_ms = int(time.time() * 1000)
    await asyncio.sleep(0.05)  # every record from here on is stamped after the cut
    await _traffic(bs, names, 3)
    plain_ends = await _ends(bs, names["plain"], 2)
    # g-plain had read past the cut on partition 0, and up to a record of link 1 on partition 1
    await _commit(bs, chain.names["g-plain"], names["plain"], {0: plain_ends[0] - 1, 1: 25})
    await _commit(bs, chain.names["g-tx"], names["tx"], {0: 9, 1: 3})
    lost_from = chain.links[-1].member(names["plain"]).partitions[1].end_offset  # type: ignore[union-attr]
    await _delete_before(bs, names["plain"], 1, lost_from + 4)  # retention took 4 records before link 2 read them
    await link()  # link 2: its plain partition 1 starts after a hole
    await _traffic(bs, names, 4)
    await link()  # link 3: started after the cut, not needed to restore to it
    return chain


async def _ends(bs: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bs)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
        return {tp.partition: o for tp, o in ends.items()}
    finally:
        await consumer.stop()


async def _delete_before(bs: str, topic: str, partition: int, offset: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bs)
    await admin.start()
    try:
        await admin.delete_records({TopicPartition(topic, partition): RecordsToDelete(before_offset=offset)})
    finally:
        await admin.close()


async def _topic_config(bs: str, topic: str, key: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=bs)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        entries = {e[0]: e[1] for e in response.resources[0][4]}
        return str(entries[key])
    finally:
        await admin.close()


def _expected(chain: Chain, topic: str, partition: int) -> list[Record]:
    """The backed-up records of the partition, in order, up to the first stamped after the cut."""
    records = [chain.seen[topic][partition][o] for o in sorted(chain.seen[topic].get(partition, {}))]
    later = next((i for i, r in enumerate(records) if r[1] > chain.cut_ms), len(records))
    return records[:later]


async def test_a_chain_is_restored_to_a_point_in_time_on_another_cluster(kafka: LocalKafka, kafka2: LocalKafka,
                                                                          unique: str, tmp_path: Path) -> None:
    chain = await _build_chain(kafka, unique, tmp_path)
    plain = chain.names["plain"]
    link2 = chain.links[2].member(plain).partitions[1]  # type: ignore[union-attr]
    assert link2.lost is not None and link2.lost[1] - link2.lost[0] == 4
    to = cluster_of(kafka2)
    progress: list[SetRestoreProgress] = []

    def seen(event: object) -> None:
        if isinstance(event, SetRestoreProgress):
            progress.append(event)

    request = SetRestoreRequest(backup_base=tmp_path, set_id=chain.links[3].set_id, topic_prefix="dr.",
                                to_time_ms=chain.cut_ms)
    result = await restore_set(to, request, seen)
    assert result.links == tuple(m.set_id for m in chain.links[:3])  # link 3 started after the cut
    [restored_plain] = [t for t in result.topics if t.source == plain]
    assert [(h.set_id, h.partition, h.end - h.start) for h in restored_plain.lost] == [(chain.links[2].set_id, 1, 4)]
    assert {t.target for t in result.topics} == {f"dr.{n}" for n in chain.counts}
    assert progress and progress[-1].offsets_done == progress[-1].offsets_total
    bs2 = kafka2.bootstrap_servers
    for topic, count in chain.counts.items():
        restored = await read_all(bs2, f"dr.{topic}")
        assert sorted(restored) == list(range(count)), topic
        [outcome] = [t for t in result.topics if t.source == topic]
        for p in range(count):
            expected = _expected(chain, topic, p)
            assert [r[1:2] + r[3:] for r in restored[p]] == [r[1:2] + r[3:] for r in expected], (topic, p)
            offsets = OffsetMap(list(next(o for o in outcome.partitions if o.partition == p).offset_map)
                                if expected else [])
            assert [offsets.target_of(r[0]) for r in expected] == [r[0] for r in restored[p]], (topic, p)
    assert not any(r[4].endswith(b"-a") for rs in (await read_all(bs2, f"dr.{chain.names['tx']}")).values()
                   for r in rs if r[4])
    assert sum(map(len, (await read_all(bs2, f"dr.{chain.names['empty']}")).values())) == 0
    assert await _topic_config(bs2, f"dr.{chain.names['compacted']}", "cleanup.policy") == "compact"
    assert await _topic_config(bs2, f"dr.{chain.names['appended']}", "message.timestamp.type") == "LogAppendTime"
    await _groups_resume_at_the_next_record(chain, bs2, result)


async def _groups_resume_at_the_next_record(chain: Chain, bs2: str, result: SetRestoreResult) -> None:
    assert all(g.commit.committed for g in result.groups), [g.commit.reason for g in result.groups]
    plain, tx = chain.names["plain"], chain.names["tx"]
    # partition 0: read past the cut at the source -> the end of what was restored, nothing left to read
    committed, first = await _first_read(bs2, chain.names["g-plain"], f"dr.{plain}", 0)
    assert first is None and committed == len(_expected(chain, plain, 0))
    # partition 1: committed 25 at the source -> the record that was at 25 comes first
    committed, first = await _first_read(bs2, chain.names["g-plain"], f"dr.{plain}", 1)
    assert first is not None and first[3:] == chain.seen[plain][1][25][3:]
    for p, at in ((0, 9), (1, 3)):  # the first record at or after the committed offset
        _committed, first = await _first_read(bs2, chain.names["g-tx"], f"dr.{tx}", p)
        after = next(r for o, r in sorted(chain.seen[tx][p].items()) if o >= at)
        assert first is not None and first[3:] == after[3:]


async def test_dry_run_writes_nothing_and_a_failed_restore_resumes_exactly_once(
        kafka: LocalKafka, kafka2: LocalKafka, unique: str, tmp_path: Path) -> None:
    chain = await _build_chain(kafka, unique, tmp_path)
    to, bs2 = cluster_of(kafka2), kafka2.bootstrap_servers
    request = SetRestoreRequest(backup_base=tmp_path, set_id=chain.links[3].set_id, topic_prefix="dry.",
                                dry_run=True, restore_consumer_offsets=None)
    dry = await restore_set(to, request)
    assert dry.dry_run and dry.preflight is not None and dry.preflight.ok
    assert {t.target for t in dry.preflight.topics} == {f"dry.{n}" for n in chain.counts}
    assert dry.preflight.records == sum(len(c) for t in chain.seen.values() for c in t.values())
    assert len(dry.links) == 4
    admin = AIOKafkaAdminClient(bootstrap_servers=bs2)
    await admin.start()
    try:
        assert not [t for t in await admin.list_topics() if t.startswith("dry.")]  # nothing created
    finally:
        await admin.close()

    class Stop(Exception):
        pass

    plain = f"dry.{chain.names['plain']}"

    def fail_midway(event: object) -> None:  # fails inside the plain topic's second link
        if isinstance(event, SetRestoreProgress) and event.topic == plain and event.topic_fraction > 0.5:
            raise Stop

    writing = SetRestoreRequest(backup_base=tmp_path, set_id=chain.links[3].set_id, topic_prefix="dry.",
                                checkpoint_seconds=60)
    with pytest.raises(Stop):
        await restore_set(to, writing, fail_midway)
    with pytest.raises(KsreError, match="--resume"):
        await restore_set(to, writing)
    resumed = await restore_set(to, SetRestoreRequest(backup_base=tmp_path, set_id=chain.links[3].set_id,
                                                      topic_prefix="dry.", resume=True))
    assert resumed.metrics is not None
    for topic, count in chain.counts.items():
        restored = await read_all(bs2, f"dry.{topic}")
        for p in range(count):
            expected = [chain.seen[topic][p][o] for o in sorted(chain.seen[topic].get(p, {}))]
            assert [r[3:] for r in restored[p]] == [r[3:] for r in expected], (topic, p)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kafka_sre_tui", "restore", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)


async def test_a_missing_link_is_named(kafka: LocalKafka, kafka2: LocalKafka, unique: str, tmp_path: Path) -> None:
    cluster = cluster_of(kafka, "source")
    await create_topic(kafka.bootstrap_servers, unique, 1)
    await _send(kafka.bootstrap_servers, unique, 1, 0, 5)
    base = await backup_link(cluster, tmp_path, {unique: 1}, None)
    await _send(kafka.bootstrap_servers, unique, 1, 5, 3)
    await create_topic(kafka.bootstrap_servers, f"{unique}-new", 1)  # a topic new since the base
    await _send(kafka.bootstrap_servers, f"{unique}-new", 1, 0, 2)
    link = await backup_link(cluster, tmp_path, {unique: 1, f"{unique}-new": 1}, base)
    where = ["--cluster", kafka2.bootstrap_servers, "--backup-dir", str(tmp_path), "--backup-id", link.set_id]
    dry = await asyncio.to_thread(_cli, *where, "--topic-map", f"{unique}:{unique}-dr", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"{unique}-dr" in dry.stdout and f"links used: {base.set_id}, {link.set_id}" in dry.stdout
    assert "2 topic(s), 10 records" in dry.stdout and "nothing written" in dry.stdout
    assert f"note  {unique}-new: restored from link 1 ({link.set_id}) on: new topic" in dry.stdout
    wrong = await asyncio.to_thread(_cli, *where, "--target-topic", "x")
    assert wrong.returncode == 2 and "--target-topic apply to one-topic backups" in wrong.stderr
    new_member = link.member(f"{unique}-new").member_id  # type: ignore[union-attr]
    shutil.rmtree(tmp_path / link.set_id / "topics" / new_member)
    gone = await asyncio.to_thread(_cli, *where, "--dry-run")
    assert gone.returncode == 1 and len(gone.stderr.strip().splitlines()) == 1, gone.stderr
    assert f"lists member {new_member} (topic '{unique}-new') but its folder" in gone.stderr
    (tmp_path / base.set_id / SET_MANIFEST).unlink()
    broken = await asyncio.to_thread(_cli, *where)
    assert broken.returncode == 2 and len(broken.stderr.strip().splitlines()) == 1, broken.stderr
    assert f"{base.set_id} (the parent of {link.set_id})" in broken.stderr
    with pytest.raises(ConfigError, match=f"{base.set_id} \\(the parent of {link.set_id}\\).*chain is broken"):
        await restore_set(cluster_of(kafka2), SetRestoreRequest(backup_base=tmp_path, set_id=link.set_id))
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka2.bootstrap_servers)
    await admin.start()
    try:
        assert unique not in await admin.list_topics()
    finally:
        await admin.close()


async def test_kill_9_in_a_later_link_then_resume_writes_every_record_once(kafka: LocalKafka, kafka2: LocalKafka,
                                                                           unique: str, tmp_path: Path) -> None:
    bs, bs2, cluster = kafka.bootstrap_servers, kafka2.bootstrap_servers, cluster_of(kafka, "source")
    await create_topic(bs, unique, 3)
    await _send_large(bs, unique, 0)
    base = await backup_link(cluster, tmp_path, {unique: 3}, None)
    await _send_large(bs, unique, 1)
    link = await backup_link(cluster, tmp_path, {unique: 3}, base)
    expected = await read_all(bs, unique)
    first_link = base.records
    cmd = [sys.executable, "-m", "kafka_sre_tui", "restore", "--cluster", bs2, "--backup-dir", str(tmp_path),
           "--backup-id", link.set_id, "--topic-prefix", "k9.", "--rate-limit", "1", "--checkpoint-seconds", "1"]
    proc = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        async with KafkaSession(cluster_of(kafka2)) as session:
            for _ in range(1200):  # killed once the second link is being written
                await asyncio.sleep(0.05)
                assert proc.returncode is None, "the restore ended before it could be killed"
                try:
                    written = sum((await end_offsets(session, f"k9.{unique}", [0, 1, 2])).values())
                except KsreError:
                    continue  # not created yet
                if written > first_link + 500:
                    break
            else:
                raise AssertionError("the restore never reached its second link")
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    resumed = await asyncio.to_thread(_cli, *cmd[4:], "--resume")
    assert resumed.returncode == 0, resumed.stderr
    restored = await read_all(bs2, f"k9.{unique}")
    for p in range(3):
        assert [r[3:] for r in restored[p]] == [r[3:] for r in expected[p]], p


async def _send_large(bs: str, topic: str, round_: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5, max_batch_size=64 << 10)
    await producer.start()
    try:
        for i in range(6000):
            await producer.send(topic, bytes(400), key=f"{round_}-{i}".encode(), partition=i % 3)
        await producer.flush()
    finally:
        await producer.stop()


async def test_a_target_with_fewer_partitions_is_refused_before_any_write(kafka: LocalKafka, kafka2: LocalKafka,
                                                                          unique: str, tmp_path: Path) -> None:
    bs, bs2, cluster = kafka.bootstrap_servers, kafka2.bootstrap_servers, cluster_of(kafka, "source")
    await create_topic(bs, f"{unique}-a", 1)
    await create_topic(bs, f"{unique}-b", 2)
    await _send(bs, f"{unique}-a", 1, 0, 5)
    await _send(bs, f"{unique}-b", 2, 0, 6)
    link = await backup_link(cluster, tmp_path, {f"{unique}-a": 1, f"{unique}-b": 2}, None)
    await create_topic(bs2, f"{unique}-b", 1)  # the target of -b exists with one partition fewer
    refused = await asyncio.to_thread(_cli, "--cluster", bs2, "--backup-dir", str(tmp_path), "--backup-id",
                                      link.set_id)
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    error = refused.stderr
    assert f"{unique}-b" in error and "with 1 partition(s)" in error and "backed up with 2" in error
    assert "--topic-map" in error and "nothing was written" in error
    admin = AIOKafkaAdminClient(bootstrap_servers=bs2)
    await admin.start()
    try:
        assert f"{unique}-a" not in await admin.list_topics()  # the topic that would pass was not created either
    finally:
        await admin.close()


async def test_an_encrypted_set_needs_its_key_before_any_write(kafka: LocalKafka, kafka2: LocalKafka, unique: str,
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bs, cluster = kafka.bootstrap_servers, cluster_of(kafka, "source")
    monkeypatch.setenv("KSRE_TEST_SET_KEY", "5a" * 32)
    key = key_from_env("KSRE_TEST_SET_KEY")
    await create_topic(bs, unique, 1)
    await _send(bs, unique, 1, 0, 10)
    base = await backup_link(cluster, tmp_path, {unique: 1}, None, encryption_key=key)
    await _send(bs, unique, 1, 10, 6)
    link = await backup_link(cluster, tmp_path, {unique: 1}, base, encryption_key=key)
    to = cluster_of(kafka2)
    with pytest.raises(KsreError, match="encrypt"):
        await restore_set(to, SetRestoreRequest(backup_base=tmp_path, set_id=link.set_id, topic_prefix="enc."))
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka2.bootstrap_servers)
    await admin.start()
    try:
        assert f"enc.{unique}" not in await admin.list_topics()
    finally:
        await admin.close()
    await restore_set(to, SetRestoreRequest(backup_base=tmp_path, set_id=link.set_id, topic_prefix="enc.",
                                            encryption_key=key))
    source, restored = await read_all(bs, unique), await read_all(kafka2.bootstrap_servers, f"enc.{unique}")
    assert [r[1:] for r in restored[0]] == [r[1:] for r in source[0]] and len(source[0]) == 16
