"""Backup sets in tests: run one, read a member or a whole chain back as tests.kafka_helpers.read_all does."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiokafka import TopicPartition as TP
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from aiokafka.errors import TopicAlreadyExistsError

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.set_events import SetEvent, SetResult
from kafka_sre_tui.engine.backup.set_plan import SetRequest
from kafka_sre_tui.engine.backup.set_run import backup_set
from kafka_sre_tui.engine.storage.backup_set import SetManifest, member_dir, set_dir
from kafka_sre_tui.engine.storage.local_store import LocalDir
from kafka_sre_tui.engine.storage.verify import verify_backup
from tests.backup_helpers import read_backup
from tests.kafka_helpers import Record, create_topic


async def back_up_set(cluster: ClusterConfig, base: Path, *patterns: str, events: list[SetEvent] | None = None,
                      stop: asyncio.Event | None = None, **options: object) -> SetResult:
    request = SetRequest(base_path=base, topics=patterns, **options)  # type: ignore[arg-type]
    return await backup_set(cluster, request, events.append if events is not None else lambda _: None, stop=stop)


def member_folder(base: Path, manifest: SetManifest, topic: str) -> Path:
    member = manifest.member(topic)
    assert member is not None, f"{topic} is not in set {manifest.set_id}"
    folder = member_dir(set_dir(LocalDir(base), manifest.set_id), member.member_id).local_dir()
    assert folder is not None
    return folder


def member_records(base: Path, manifest: SetManifest, topic: str) -> dict[int, list[Record]]:
    """The member's records, after checking every checksum of it."""
    folder = member_folder(base, manifest, topic)
    assert verify_backup(folder).intact
    return read_backup(folder)


def chain_records(base: Path, links: list[SetManifest], topic: str) -> dict[int, list[Record]]:
    """Every link's records of ``topic``, concatenated in chain order per partition."""
    result: dict[int, list[Record]] = {}
    for link in links:
        if link.member(topic) is None:
            continue
        for partition, records in member_records(base, link, topic).items():
            result.setdefault(partition, []).extend(records)
    return result


async def delete_records(bs: str, topic: str, partition: int, before: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bs)
    await admin.start()
    try:
        await admin.delete_records({TP(topic, partition): RecordsToDelete(before_offset=before)})
    finally:
        await admin.close()


async def recreate_topic(bs: str, topic: str, partitions: int) -> None:
    """Delete ``topic`` and create it again (a new topic id), waiting out the deletion."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bs)
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()
    for _ in range(100):
        try:
            await create_topic(bs, topic, partitions)
            return
        except TopicAlreadyExistsError:
            await asyncio.sleep(0.2)
    raise AssertionError(f"topic {topic} could not be created again")
