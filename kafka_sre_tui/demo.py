"""``kafka-sre-tui demo``: a local Apache Kafka with traffic worth looking at.

Topics: ``orders`` (6 partitions), ``payments`` (3), ``audit-log`` (1). Groups:
- ``orders-processor`` alternates a slow phase (lag grows) and a fast one (it drains);
- ``payments-ledger`` keeps up;
- ``audit-archiver`` consumed part of ``audit-log`` once and stopped: lag with no members.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sys
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from kafka_sre_tui.config import AppConfig, ClusterConfig
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.localkafka import KAFKA_VERSION, LocalKafka, LocalKafkaError

TOPICS = {"orders": 6, "payments": 3, "audit-log": 1}
ORDERS_PER_SECOND = 200
SLOW_RATE, FAST_RATE = 120, 900  # orders-processor records/s in its slow and fast phases
PHASE_SECONDS = 45


def run_demo(config: AppConfig) -> int:
    from kafka_sre_tui.tui.app import KsreApp

    print(f"Starting a local Apache Kafka {KAFKA_VERSION} (KRaft) on 127.0.0.1 …", file=sys.stderr, flush=True)
    kafka = LocalKafka()
    try:
        kafka.start()
    except LocalKafkaError as exc:
        raise KsreError(f"demo: {exc}") from None
    try:
        bootstrap = kafka.bootstrap_servers
        print(f"Broker up on {bootstrap}; creating demo topics …", file=sys.stderr, flush=True)
        asyncio.run(prepare(bootstrap))
        cluster = ClusterConfig(name="demo", bootstrap_servers=(bootstrap,), color="darkgreen")
        demo_config = AppConfig(backup=config.backup, ui=config.ui)  # the demo's own cluster only
        KsreApp(cluster, config.ui, background=lambda: traffic(bootstrap), config=demo_config).run()
    finally:
        print("Stopping the local broker …", file=sys.stderr, flush=True)
        kafka.stop()
    return 0


async def prepare(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics([NewTopic(name, n, 1) for name, n in TOPICS.items()])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for i in range(2000):
            await producer.send("audit-log", _record("audit", i), key=f"user-{i % 50}".encode())
        await producer.flush()
    finally:
        await producer.stop()
    await _consume_once(bootstrap, "audit-archiver", "audit-log", 800)


async def traffic(bootstrap: str) -> None:
    """Run the demo's producers and consumers until cancelled."""
    await asyncio.gather(
        _produce(bootstrap),
        _consume(bootstrap, "orders-processor", "orders", _orders_processor_rate),
        _consume(bootstrap, "payments-ledger", "payments", lambda: 10_000),
    )


def _record(kind: str, i: int) -> bytes:
    return json.dumps({"kind": kind, "seq": i, "amount_cents": (i * 7919) % 100_000}).encode()


async def _produce(bootstrap: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    await producer.start()
    try:
        for i in itertools.count():
            headers = [("source", b"demo"), ("trace-id", f"{i:016x}".encode())]
            await producer.send("orders", _record("order", i), key=f"customer-{i % 997}".encode(), headers=headers)
            if i % 4 == 0:
                await producer.send("payments", _record("payment", i), key=f"account-{i % 101}".encode())
            await asyncio.sleep(1 / ORDERS_PER_SECOND)
    finally:
        await producer.stop()


def _orders_processor_rate() -> float:
    return SLOW_RATE if int(time.monotonic() / PHASE_SECONDS) % 2 == 0 else FAST_RATE


async def _consume(bootstrap: str, group: str, topic: str, rate: Callable[[], float]) -> None:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                auto_offset_reset="earliest", enable_auto_commit=True,
                                auto_commit_interval_ms=1000)
    await consumer.start()
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=500, max_records=50)
            count = sum(len(records) for records in batch.values())
            await asyncio.sleep(count / rate())
    finally:
        await consumer.stop()


async def _consume_once(bootstrap: str, group: str, topic: str, records: int) -> None:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        seen = 0
        while seen < records:
            batch = await consumer.getmany(timeout_ms=1000, max_records=records - seen)
            seen += sum(len(r) for r in batch.values())
        await consumer.commit()
    finally:
        await consumer.stop()
