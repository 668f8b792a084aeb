"""Inspection scale: build a cluster of many topics and groups, then time the dashboard's refresh.

Groups are made by committing offsets (OffsetCommit with no generation, as a tool does), spread over
the topics, so every group has lag on several topics. Each group commits on ``topics_per_group`` topics.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaClient, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.protocol.commit import OffsetCommitRequest

from bench.child import run_child
from bench.data import create_topics


@dataclass(frozen=True)
class Scale:
    topics: int
    partitions: int  # per topic
    groups: int
    topics_per_group: int = 4


def topic_names(scale: Scale) -> list[str]:
    return [f"svc-{i:04d}.events" for i in range(scale.topics)]


async def build(bootstrap: str, scale: Scale) -> None:
    names = topic_names(scale)
    await create_topics(bootstrap, names, scale.partitions)
    for start in range(0, len(names), PRODUCE_CHUNK):
        await _produce_retrying(bootstrap, names[start:start + PRODUCE_CHUNK], scale.partitions)
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=60_000)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60_000)
    await client.bootstrap()
    await admin.start()
    try:
        for g in range(scale.groups):
            group = f"consumer-{g:03d}.app"
            chosen = [names[(g * 7 + k * 13) % len(names)] for k in range(scale.topics_per_group)]
            topics = [(t, [(p, 0 if p % 2 else 1, "") for p in range(scale.partitions)]) for t in dict.fromkeys(chosen)]
            await _commit(client, admin, OffsetCommitRequest(group, -1, "", -1, topics))
    finally:
        await admin.close()
        await client.close()


MAX_PRODUCE_ATTEMPTS = 150
PRODUCE_CHUNK = 200  # topics per producer: one producer's metadata refreshes cover every topic it sent to


async def _produce(bootstrap: str, names: list[str], partitions: int) -> None:
    """A few records in every partition, so offsets and lag are not all zero (a producer per chunk of
    topics: one producer for 8,000 topics spends its time refreshing metadata of all of them)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=50, request_timeout_ms=120_000)
    await producer.start()
    try:
        sends = [await producer.send(name, b'{"n":%d}' % n, partition=p)
                 for name in names for p in range(partitions) for n in range(1 + p % 3)]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def _produce_retrying(bootstrap: str, names: list[str], partitions: int) -> None:
    """Brokers create tens of thousands of partitions minutes after CreateTopics answered: until a
    partition's leader has its log, produce fails with NotLeaderForPartition; send the chunk again
    (a partition may get its few records twice, which changes nothing measured)."""
    for _ in range(MAX_PRODUCE_ATTEMPTS - 1):
        try:
            await _produce(bootstrap, names, partitions)
            return
        except KafkaError:
            await asyncio.sleep(2)
    await _produce(bootstrap, names, partitions)


async def _commit(client: AIOKafkaClient, admin: AIOKafkaAdminClient, request: OffsetCommitRequest) -> None:
    """Commit at the group's coordinator, retrying while it comes up (FindCoordinator creates
    __consumer_offsets on a new cluster)."""
    codes: set[int] = set()
    for _ in range(100):
        try:
            node = await admin.find_coordinator(request._consumer_group)
        except KafkaError as exc:
            codes = {getattr(exc, "errno", -1)}
        else:
            response = await client.send(node, request)
            codes = {code for _topic, parts in response.topics for _p, code in parts if code}
            if not codes:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"committing offsets for the inspection groups failed with error codes {sorted(codes)}")


def measure_refresh(bootstrap: str, repeats: int) -> dict[str, Any]:
    """The dashboard's refresh sequence in a child process (see bench/refresh_probe.py)."""
    run = run_child([sys.executable, "-m", "bench.refresh_probe", bootstrap, str(repeats)])
    if not run.ok:
        return {"error": run.failure()}
    return dict(json.loads(run.stdout), peak_rss_mb=round(run.peak_rss_mb, 1))


def measure_ui(bootstrap: str) -> dict[str, Any]:
    """The dashboard loading the cluster, with an event-loop lag monitor (see bench/ui_probe.py)."""
    run = run_child([sys.executable, "-m", "bench.ui_probe", bootstrap], timeout=600)
    if not run.ok:
        return {"error": run.failure()}
    return dict(json.loads(run.stdout), peak_rss_mb=round(run.peak_rss_mb, 1))
