"""A backup that meets an error keeps it: one line for the user, and the backup stays resumable.

Issue 17: a backup died with ``TypeError: 'NoneType' object is not iterable``. Kafka answers a
partition it cannot read (offset out of range, not the leader) with a null list of aborted
transactions, on which aiokafka's ``to_object`` fails, so the error code never reached the loop.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka import TopicPartition as TP
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.catalog import list_backups
from kafka_sre_tui.engine.backup.partition import PartitionBackup
from kafka_sre_tui.engine.backup.plan import BackupRequest
from kafka_sre_tui.engine.backup.run import BackupProgress, backup_topic
from kafka_sre_tui.engine.kafka.fetch import OFFSET_OUT_OF_RANGE, fetch_raw
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import read_backup
from tests.kafka_helpers import create_topic, produce, read_all, wait_for


async def _load(bootstrap: str, topic: str, records: int) -> None:
    await create_topic(bootstrap, topic, 1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    for i in range(records):
        await producer.send(topic, os.urandom(1000), key=f"k{i}".encode(), partition=0)
    await producer.flush()
    await producer.stop()


async def test_fetch_out_of_range_reports_the_error_code(cluster: ClusterConfig, kafka: LocalKafka,
                                                         unique: str) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 1)
    await produce(kafka.bootstrap_servers, unique, {0: 10})
    async with KafkaSession(cluster) as session:
        [node] = session.broker_ids()
        tp = TopicPartition(unique, 0)
        answer = await fetch_raw(session, node, {tp: 1000}, max_bytes=1 << 20, partition_max_bytes=1 << 20)
    assert answer[tp].error_code == OFFSET_OUT_OF_RANGE and answer[tp].records == b""


async def test_retention_during_backup_leaves_a_gap_and_finishes(cluster: ClusterConfig, kafka: LocalKafka,
                                                                 unique: str, tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    await _load(bs, unique, 3000)
    seen: list[object] = []
    request = BackupRequest(topic=unique, base_path=tmp_path, rate_limit_mb_s=0.5, compression="lz4")
    running = asyncio.create_task(backup_topic(cluster, request, emit=seen.append))
    await wait_for(lambda: any(isinstance(p, BackupProgress) and 0 < p.records < 1000 for p in seen)
                   or running.done(), "the backup to start")
    assert not running.done()
    admin = AIOKafkaAdminClient(bootstrap_servers=bs)
    await admin.start()
    try:  # retention removes the records the backup has not read yet
        await admin.delete_records({TP(unique, 0): RecordsToDelete(before_offset=2500)})
    finally:
        await admin.close()
    result = await running

    stored = read_backup(result.path)[0]
    offsets = [r[0] for r in stored]
    [part] = result.manifest.partitions
    [(read, resumed)] = part.gaps  # resumed: the first record of the batch holding offset 2500
    assert 0 < read < resumed <= 2500 and offsets == [*range(read), *range(resumed, 3000)]
    assert part.records == len(stored)
    assert [r for r in stored if r[0] >= 2500] == (await read_all(bs, unique))[0]


def test_unexpected_error_is_one_line_and_the_backup_resumes(kafka: LocalKafka, unique: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    bs = kafka.bootstrap_servers
    asyncio.run(_load(bs, unique, 3000))
    process = PartitionBackup.process
    calls = 0

    def failing_process(self: PartitionBackup, fetched: object) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise TypeError("'NoneType' object is not iterable")
        return process(self, fetched)  # type: ignore[arg-type]

    monkeypatch.setattr(PartitionBackup, "process", failing_process)
    args = ["backup", "--cluster", bs, "--topic", unique, "--backup-dir", str(tmp_path), "--compression", "lz4"]
    assert main([*args, "--rate-limit", "1"]) == 1
    err = capsys.readouterr().err
    [interrupted] = list_backups(tmp_path)
    [line] = [line for line in err.splitlines() if line.startswith("error:")]
    assert "Traceback" not in err and "unexpected TypeError: 'NoneType' object is not iterable" in line
    assert line.endswith(f"kafka-sre-tui backup --resume {interrupted.backup_id}")
    assert interrupted.status == "incomplete" and 0 < interrupted.records < 3000

    monkeypatch.setattr(PartitionBackup, "process", process)
    assert main(["backup", "--resume", interrupted.backup_id, "--backup-dir", str(tmp_path)]) == 0
    [done] = list_backups(tmp_path)
    assert done.status == "complete" and done.records == 3000
    assert read_backup(done.path) == asyncio.run(read_all(bs, unique))
