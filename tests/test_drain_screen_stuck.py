"""The drain screen (Pilot, real broker) and `drain --json` show the data loss ahead and the key of the
record a partition that does not move is stuck on; a partition that is caught up shows none."""

from __future__ import annotations

import time

from aiokafka import AIOKafkaProducer
from textual.widgets import DataTable, Static

from kafka_sre_tui.config import ClusterConfig, UiSettings
from kafka_sre_tui.localkafka import LocalKafka
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.screens.drain import DrainScreen
from tests.drain_helpers import run_cli
from tests.kafka_helpers import consume_and_commit, create_topic, wait_for


async def test_drain_screen_shows_stuck_key_and_data_loss(kafka: LocalKafka, cluster: ClusterConfig,
                                                          unique: str) -> None:
    bs, group = kafka.bootstrap_servers, f"{unique}-g"
    await create_topic(bs, unique, 2, {"retention.ms": str(3_600_000)})
    producer = AIOKafkaProducer(bootstrap_servers=bs)
    await producer.start()
    try:
        old = int(time.time() * 1000) - 1_800_000  # half an hour old under a 1 h retention: AT RISK
        for i in range(6):
            await producer.send(unique, f"v{i}".encode(), key=f"order-{i}".encode(), partition=0, timestamp_ms=old)
        await producer.send(unique, b"done", key=b"other", partition=1)
        await producer.flush()
    finally:
        await producer.stop()
    await consume_and_commit(bs, group, unique, {0: 3, 1: 1})  # then nobody reads: partition 0 STOPPED at 3

    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(200, 40)) as pilot:
        app.action_drain_group(group)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DrainScreen)
        table = screen.query_one("#drain-partitions", DataTable)

        def row(partition: int) -> list[str]:
            return next(([str(c) for c in table.get_row_at(i)] for i in range(table.row_count)
                         if str(table.get_row_at(i)[1]) == str(partition)), [])

        await wait_for(lambda: len(row(0)) > 8 and row(0)[6] == "STOPPED" and row(0)[8] != "-",
                       "the stuck record's key on the STOPPED partition")
        assert row(0)[8] == '"order-3"  (text, 7 B) at offset 3'
        assert row(0)[7].startswith("AT RISK ~")
        assert row(1)[8] == "-" and row(1)[7] == "-"  # caught up: nothing stuck, nothing to lose
        assert "DATA LOSS AT RISK" in str(screen.query_one("#drain-status", Static).render())
        await pilot.press("escape")

    run = await run_cli("drain", "--cluster", bs, "--group-id", group, "--timeout-seconds", "0.5",
                        "--interval", "0.25")
    parts = {p["partition"]: p for p in run.samples[-1]["partitions"]}
    assert parts[0]["stuck_record"] == {"offset": 3, "key": "order-3", "key_format": "text"}
    assert parts[1]["stuck_record"] is None
