"""The Topics tab and the topic screen against the real broker: sizes on disk and produce rates."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaProducer
from textual.widgets import DataTable

from kafka_sre_tui.cli.output import human_bytes
from kafka_sre_tui.config import ClusterConfig, UiSettings
from kafka_sre_tui.engine.inspect.cluster import list_topics
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import PartitionInfo, TopicInfo
from kafka_sre_tui.localkafka import LocalKafka
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.offset_rates import OffsetRates
from kafka_sre_tui.tui.screens.topic_detail import TopicScreen
from kafka_sre_tui.tui.widgets.live_table import LiveTable
from kafka_sre_tui.tui.widgets.topics_pane import COLUMNS
from tests.kafka_helpers import create_topic, wait_for

SIZE, RATE = [c.key for c in COLUMNS].index("size"), [c.key for c in COLUMNS].index("rate")
P_SIZE, P_RATE = 7, 8  # on the topic screen: Partition Leader Replicas ISR Earliest Latest Messages Size Rate Flags


def _row(table: LiveTable, key: str) -> list[str] | None:
    """A topics-table row as the user reads it, or None when absent."""
    shown = table.row_keys()  # a list, in the order shown
    return list(table.row(key)) if key in shown else None


def _cell(table: LiveTable | DataTable, key: str, column: int) -> str:  # type: ignore[type-arg]
    if isinstance(table, LiveTable):
        return (_row(table, key) or [""] * len(table.columns))[column]
    if key not in {k.value for k in table.rows}:
        return ""
    return str(table.get_row(key)[column])


def _rate(text: str) -> float | None:
    return float(text.split()[0].replace(",", "")) if text.endswith("msg/s") else None


@contextlib.asynccontextmanager
async def _producing(bootstrap: str, topic: str, partitions: tuple[int, ...]) -> AsyncIterator[None]:
    """Keep producing into ``partitions`` (about 100 records/s each) while the block runs."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()

    async def run() -> None:
        while True:
            for p in partitions:
                await producer.send(topic, b"x" * 100, partition=p)
            await asyncio.sleep(0.01)

    task = asyncio.create_task(run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await producer.stop()


async def test_topics_table_shows_the_size_on_disk(kafka: LocalKafka, cluster: ClusterConfig, unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5, acks="all")
    await producer.start()
    try:
        for i in range(400):
            await producer.send(unique, b"v" * 1000, partition=i % 2)
        await producer.flush()
    finally:
        await producer.stop()
    async with KafkaSession(cluster) as s:
        [topic] = await list_topics(s, names=[unique], with_sizes=True)
    expected = human_bytes(topic.size_bytes)
    assert expected is not None and expected.endswith("KiB")

    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(140, 30)):
        topics = app.query_one("#topics-table", LiveTable)
        await wait_for(lambda: _cell(topics, unique, SIZE) == expected, f"the size {expected} in the topics table")
        assert (_row(topics, unique) or [])[:4] == [unique, "2", "1", "400"]
        assert app.topics_pane.size_problems == ()


async def test_topic_screen_shows_size_and_rate_of_each_partition(kafka: LocalKafka, cluster: ClusterConfig,
                                                                  unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 3)
    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    async with _producing(bs, unique, (0, 1)), app.run_test(size=(160, 40)) as pilot:
        topics = app.query_one("#topics-table", LiveTable)
        # two refreshes with offsets have seen the topic: the pane has a rate for it
        await wait_for(lambda: (_rate(_cell(topics, unique, RATE)) or 0) > 0, "a produce rate in the topics table")
        topics.select_key(unique)
        topics.focus()
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, TopicScreen), "the topic screen")  # Enter posts a message
        partitions = app.screen.query_one("#partitions-table", DataTable)

        def rates() -> list[float | None]:
            return [_rate(_cell(partitions, str(p), P_RATE)) for p in range(3)]

        await wait_for(lambda: (rates()[0] or 0) > 0 and (rates()[1] or 0) > 0, "per-partition rates")
        assert rates()[2] == 0.0  # nothing is produced into partition 2
        await wait_for(lambda: _cell(partitions, "0", P_SIZE).endswith(("B", "KiB")), "partition 0's size")
        assert _cell(partitions, "2", P_SIZE) == "0 B"
        # the screen follows the refreshes: partition 0's latest offset keeps moving while it is open
        before = int(_cell(partitions, "0", 5).replace(",", ""))
        await wait_for(lambda: int(_cell(partitions, "0", 5).replace(",", "")) > before, "a reload of the screen")


def test_offset_rates_per_partition_and_only_for_topics_still_there() -> None:
    now = [100.0]
    rates = OffsetRates(clock=lambda: now[0])

    def topic(name: str, *latest: int) -> TopicInfo:
        return TopicInfo(name, False, tuple(PartitionInfo(p, 1, (1,), (1,), (), 0, o) for p, o in enumerate(latest)))

    rates.update([topic("a", 100, 50, 0), topic("b", 10)])
    assert rates.partition_rates("a") == {} and rates.topic_rate("a") is None  # one sample: no rate yet
    now[0] += 2
    rates.update([topic("a", 300, 60, 0), topic("b", 4)])  # b was deleted and created again
    assert rates.partition_rates("a") == {0: 100.0, 1: 5.0, 2: 0.0} and rates.topic_rate("a") == 105.0
    assert rates.partition_rates("b") == {0: 0.0}
    now[0] += 2
    rates.update([topic("a", 300, 60, 0)])  # b is gone: nothing of it is kept
    assert rates.partition_rates("b") == {} and set(rates._samples) == {"a"}
