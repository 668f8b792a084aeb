"""A group's committed offsets read while its coordinator comes back from a restart (loading its offsets,
or not yet the coordinator): exactly the commits, or an error in words, never "no commits" - which
`records --group` showed as an empty read and an offsets reset as a group that never committed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.group_offsets.committed import committed_offsets
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.engine.records.query import RecordQuery
from kafka_sre_tui.engine.records.read import ReadEnd, read_records
from kafka_sre_tui.localkafka import LocalKafka
from tests.conftest import _start
from tests.kafka_helpers import consume_and_commit, create_topic, produce


@pytest.fixture
def broker() -> Iterator[LocalKafka]:
    """Its own broker: the shared one must not restart under other tests."""
    kafka = _start()
    yield kafka
    kafka.stop()


async def test_committed_offsets_while_the_coordinator_restarts(broker: LocalKafka) -> None:
    bs, topic, group = broker.bootstrap_servers, "orders", "billing"
    await create_topic(bs, topic, 2)
    await produce(bs, topic, {0: 10, 1: 10})
    await consume_and_commit(bs, group, topic, {0: 4, 1: 7})
    expected = {TopicPartition(topic, 0): 4, TopicPartition(topic, 1): 7}
    cluster = ClusterConfig(name="restarting", bootstrap_servers=(bs,), request_timeout_seconds=5)

    restarted = threading.Event()
    restart = asyncio.create_task(asyncio.to_thread(lambda: (broker.restart(), restarted.set())))
    answers: list[dict[TopicPartition, int]] = []
    reads: list[list[tuple[int, int]]] = []
    after = 0
    while after < 40:  # looks as the broker comes back, and a few once it serves again
        try:
            async with KafkaSession(cluster) as session:
                answers.append(await committed_offsets(session, group))
                query = RecordQuery(topic, group=group, limit=None)
                reads.append([(r.partition, r.offset) async for r in read_records(session, query)
                              if not isinstance(r, ReadEnd)])
        except KsreError:
            pass  # down, or not ready: said in words, which is fine
        if restarted.is_set():
            after += 1
        await asyncio.sleep(0.05)
    await restart
    assert answers and all(a == expected for a in answers), [a for a in answers if a != expected][:3]
    wanted = sorted([(0, o) for o in range(4, 10)] + [(1, o) for o in range(7, 10)])
    assert reads and all(sorted(r) == wanted for r in reads), [r for r in reads if sorted(r) != wanted][:3]
