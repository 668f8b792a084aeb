"""Time to data loss against a real broker whose retention runs every half second: a stopped group on
a topic with a short retention.ms is AT RISK, then LOST with the exact count once the segment goes."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka import TopicPartition as TP
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from textual.widgets import DataTable, Static

from kafka_sre_tui.config import ClusterConfig, UiSettings
from kafka_sre_tui.engine.drain.data_loss import LossStatus
from kafka_sre_tui.engine.drain.data_loss_probe import group_data_loss
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.localkafka import LocalKafka
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.screens.group_detail import GroupScreen
from tests.conftest import _start
from tests.drain_helpers import run_cli
from tests.kafka_helpers import consume_and_commit, create_topic, wait_for
from tests.test_offsets_reset import ksre

RETENTION_MS = 15_000


@pytest.fixture(scope="module")
def retention_kafka() -> Iterator[LocalKafka]:
    broker = _start(broker_properties={"log.retention.check.interval.ms": "500", "log.initial.task.delay.ms": "0"})
    yield broker
    broker.stop()


async def test_stopped_group_is_at_risk_then_lost_with_the_right_count(retention_kafka: LocalKafka) -> None:
    bs, topic, group = retention_kafka.bootstrap_servers, "short-retention", "stopped-group"
    await create_topic(bs, topic, 1, {"retention.ms": str(RETENTION_MS), "segment.ms": "100"})
    producer = AIOKafkaProducer(bootstrap_servers=bs)
    await producer.start()
    try:
        old = int(time.time() * 1000) - 2_000
        for i in range(10):  # one segment of records two seconds old
            await producer.send(topic, f"old-{i}".encode(), partition=0, timestamp_ms=old)
        await producer.flush()
        await consume_and_commit(bs, group, topic, {0: 2})  # then stopped: 8 unread in the old segment
        # a newer record rolls the segment (segment.ms has passed); it stays after the old one is deleted
        await producer.send_and_wait(topic, b"new", partition=0, timestamp_ms=int(time.time() * 1000) + 600_000)
    finally:
        await producer.stop()

    cluster = ClusterConfig(name="retention", bootstrap_servers=(bs,), request_timeout_seconds=15)
    tp = TopicPartition(topic, 0)
    async with KafkaSession(cluster) as session:
        risk = (await group_data_loss(session, group))[tp]
        assert risk.status == LossStatus.AT_RISK, risk
        assert risk.eta_seconds is not None and 0 < risk.eta_seconds < RETENTION_MS / 1000 - 1.5
        assert risk.reason.startswith("retention.ms 15 s; oldest unread record is") and risk.records_lost == 0
        deadline = time.monotonic() + 60
        while (loss := (await group_data_loss(session, group))[tp]).status != LossStatus.LOST:
            assert time.monotonic() < deadline, f"retention never deleted the old segment: {loss}"
            await asyncio.sleep(0.25)  # retention runs on the broker's clock: look again
    assert loss.records_lost == 8 and loss.eta_seconds == 0 and "auto.offset.reset" in loss.reason

    run = await run_cli("drain", "--cluster", bs, "--group-id", group, "--timeout-seconds", "0.5",
                        "--interval", "0.25")
    sample = run.samples[-1]
    assert (sample["data_loss"], sample["records_lost"], sample["data_loss_eta_seconds"]) == ("LOST", 8, 0.0)
    assert sample["partitions"][0]["records_lost"] == 8

    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(160, 36)) as pilot:
        app.push_screen(GroupScreen(group, deque(), 1.0))
        await pilot.pause()
        table = app.screen.query_one("#group-partitions", DataTable)
        await wait_for(lambda: table.row_count == 1 and str(table.get_row_at(0)[-1]) == "LOST 8",
                       "LOST 8 in group detail")
        assert "DATA LOSS LOST 8" in str(app.screen.query_one("#members", Static).render())


async def test_groups_pane_marks_groups_losing_data_and_sorts_them_first(kafka: LocalKafka, cluster: ClusterConfig,
                                                                          unique: str) -> None:
    """Three groups on a topic keeping one hour: one caught up, one whose oldest unread record is 30 min
    old (AT RISK, about 30 min left), one whose committed offset delete-records left behind (LOST 2)."""
    bs = kafka.bootstrap_servers
    ok, risk, lost = f"aaa-{unique}", f"mmm-{unique}", f"zzz-{unique}"  # by name, the wrong way round
    await create_topic(bs, unique, 1, {"retention.ms": str(3_600_000)})
    producer = AIOKafkaProducer(bootstrap_servers=bs)
    await producer.start()
    try:
        half_hour_ago = int(time.time() * 1000) - 1_800_000
        for i in range(10):
            await producer.send(unique, f"r{i}".encode(), partition=0, timestamp_ms=half_hour_ago + i)
        await producer.flush()
    finally:
        await producer.stop()
    for group, at in ((ok, 10), (risk, 5), (lost, 1)):
        await consume_and_commit(bs, group, unique, {0: at})
    admin = AIOKafkaAdminClient(bootstrap_servers=bs)
    await admin.start()
    try:
        await admin.delete_records({TP(unique, 0): RecordsToDelete(before_offset=3)})
    finally:
        await admin.close()

    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("g")
        table = app.groups_pane.table

        def ours() -> list[str]:
            return [key for key in table.row_keys() if key.endswith(unique)]

        await wait_for(lambda: len(ours()) == 3 and table.row(lost)[2] == "LOST 2"
                       and table.row(risk)[2].startswith("AT RISK"), "the data-loss markers")
        assert ours() == [lost, risk, ok]  # losing data first, then about to, then the rest
        assert table.row(ok)[2] == ""
        minutes = int(table.row(risk)[2].removeprefix("AT RISK ~").split(" m")[0].split(" ")[0])
        assert 25 <= minutes <= 30, table.row(risk)  # retention 1 h, oldest unread record 30 min old

    code, rows, err = await ksre("groups", "--cluster", bs)  # the same from the CLI, in the same order
    assert code == 0, err
    ours = [(r["group_id"], r["data_loss"], r["records_lost"]) for r in rows if r["group_id"].endswith(unique)]
    assert ours == [(lost, "LOST", 2), (risk, "AT RISK", 0), (ok, None, 0)]
    eta = next(r["data_loss_eta_seconds"] for r in rows if r["group_id"] == risk)
    assert 25 * 60 <= eta <= 30 * 60
