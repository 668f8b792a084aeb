"""Migrating in tests: clusters, a request with a private state directory, the CLI as a subprocess."""

from __future__ import annotations

import sys
from pathlib import Path

from aiokafka import AIOKafkaProducer

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.migrate import MigrateRequest, MigrateResult, migrate
from kafka_sre_tui.engine.migrate.request import MigrateEvent
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import Record

ROOT = Path(__file__).resolve().parent.parent
# the migrate command without cli.py: the same parser and handler (cli.py wires add_commands/cmd_migrate)
MIGRATE_CLI = [sys.executable, "-m", "kafka_sre_tui", "migrate"]


def cluster_of(kafka: LocalKafka, name: str, read_only: bool = False) -> ClusterConfig:
    return ClusterConfig(name=name, bootstrap_servers=(kafka.bootstrap_servers,), request_timeout_seconds=15,
                         read_only=read_only)


def request(state: Path, topic: str, **options: object) -> MigrateRequest:
    return MigrateRequest(source_topic=topic, state_dir=state, checkpoint_seconds=0.5, **options)  # type: ignore[arg-type]


async def run(source: ClusterConfig, target: ClusterConfig, state: Path, topic: str,
              events: list[MigrateEvent] | None = None, **options: object) -> MigrateResult:
    sink = events.append if events is not None else (lambda _e: None)
    return await migrate(source, target, request(state, topic, **options), sink, settle_seconds=0.1)


def content(records: list[Record]) -> list[tuple[object, ...]]:
    """What a migration keeps of a record: everything but its offset."""
    return [r[1:] for r in records]


async def produce_varied(bootstrap: str, topic: str, partitions: int, per_partition: int) -> None:
    """Keys, null keys, tombstones, headers (duplicates, null values), old explicit timestamps, and a
    committed and an aborted transaction (markers and aborted records the copy must leave out)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for i in range(per_partition * partitions):
            p = i % partitions
            key = None if i % 7 == 0 else f"k{i}".encode()
            value = None if i % 11 == 0 and key is not None else f"v{i}".encode() * (1 + i % 5)
            headers = [("h", b"1"), ("h", None), ("n", str(i).encode())] if i % 3 else []
            await producer.send(topic, value, key=key, partition=p, headers=headers,
                                timestamp_ms=1_600_000_000_000 + i)
        await producer.flush()
    finally:
        await producer.stop()
    for commit in (True, False):
        tx = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"{topic}-tx-{commit}")
        await tx.start()
        try:
            await tx.begin_transaction()
            for p in range(partitions):
                await tx.send(topic, f"tx-{commit}-{p}".encode(), key=b"tx", partition=p)
            await (tx.commit_transaction() if commit else tx.abort_transaction())
        finally:
            await tx.stop()
