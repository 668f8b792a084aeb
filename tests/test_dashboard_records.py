"""The dashboard's record view (Pilot, real broker): from group detail, the stuck record at the committed
offset; `/` filters; Enter shows one record whole; `c` copies its value; `k` skips it through the offsets
reset form (dry run first, typed confirmation)."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from textual.widgets import Button, DataTable, Input, Static

from kafka_sre_tui.config import ClusterConfig, UiSettings
from kafka_sre_tui.engine.audit import read_audit
from kafka_sre_tui.localkafka import LocalKafka
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.screens.group_detail import GroupScreen
from kafka_sre_tui.tui.screens.offsets_form import OffsetsResetForm
from kafka_sre_tui.tui.screens.record_detail import RecordDetail
from kafka_sre_tui.tui.screens.records import RecordsScreen
from kafka_sre_tui.tui.screens.records_start import RecordsStartForm
from kafka_sre_tui.tui.screens.topic_detail import TopicScreen
from tests.kafka_helpers import consume_and_commit, create_topic, wait_for
from tests.test_offsets_reset import committed

POISON = b'{"order": 3, "amount": "NaN"}'


async def test_stuck_record_filter_whole_record_and_skip(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setenv("KAFKA_SRE_TUI_AUDIT_LOG", str(tmp_path / "kafka-sre-tui" / "audit.log"))
    bs, group = kafka.bootstrap_servers, f"{unique}-g"
    await create_topic(bs, unique, 1)
    producer = AIOKafkaProducer(bootstrap_servers=bs)
    await producer.start()
    try:
        for i in range(6):
            await producer.send(unique, POISON if i == 3 else f'{{"order": {i}}}'.encode(), key=f"k{i}".encode(),
                                partition=0, headers=[("attempt", b"1")])
        await producer.flush()
    finally:
        await producer.stop()
    await consume_and_commit(bs, group, unique, {0: 3})  # stuck before the poison pill at offset 3

    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(140, 36)) as pilot:
        app.push_screen(GroupScreen(group, deque(), 1.0))
        await pilot.pause()
        await wait_for(lambda: app.screen.query_one("#group-partitions", DataTable).row_count == 1,
                       "the group's partition row")
        await pilot.press("p")
        assert isinstance(app.screen, RecordsScreen)
        table = app.screen.query_one("#records-table", DataTable)
        await wait_for(lambda: table.row_count == 3, "the records from the committed offset")
        assert [str(table.get_row_at(i)[1]) for i in range(3)] == ["3", "4", "5"]  # the stuck one first
        title = str(app.screen.query_one("#records-title", Static).render())
        assert f"group {unique}-g" in title and "why:" in title

        await pilot.press("slash", *"NaN", "enter")
        await wait_for(lambda: table.row_count == 1, "the filtered row")
        await pilot.press("enter")
        assert isinstance(app.screen, RecordDetail)
        text = str(app.screen.query_one("#record-text", Static).render())
        assert '"amount": "NaN"' in text and "header     attempt = \"1\"" in text and "offset 3" in text
        await pilot.press("c")
        assert app.clipboard == '{\n  "order": 3,\n  "amount": "NaN"\n}'

        await pilot.press("escape", "k")  # skip this record: the reset form, dry run first
        assert isinstance(app.screen, OffsetsResetForm)
        plan = app.screen.query_one("#reset-plan", Static)
        commit = app.screen.query_one("#reset-commit", Button)
        app.screen.query_one("#reset-target", Input).focus()
        await pilot.press("enter")
        await wait_for(lambda: "partition 0: 3 → 4" in str(plan.render()), "the dry run")
        assert commit.disabled and (await committed(bs, group, unique, 1)) == {0: 3}
        app.screen.query_one("#reset-confirm", Input).focus()
        await pilot.press(*group)
        await wait_for(lambda: not commit.disabled, "commit enabled by the typed group name")
        await pilot.click("#reset-commit")
        await wait_for(lambda: "committed." in str(plan.render()), "the commit")
    assert (await committed(bs, group, unique, 1)) == {0: 4}
    [entry] = read_audit(tmp_path / "kafka-sre-tui" / "audit.log")
    assert (entry["action"], entry["result"], entry["parameters"]["offsets"]) == ("offsets reset", "ok", {"0": 4})


async def test_record_view_start_form_offset_time_tail_per_partition(kafka: LocalKafka, cluster: ClusterConfig,
                                                                     unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    producer = AIOKafkaProducer(bootstrap_servers=bs)
    await producer.start()
    try:
        for p in (0, 1):
            for i in range(10):
                await producer.send(unique, f"{p}-{i}".encode(), partition=p, timestamp_ms=1_000_000 + i * 1000)
        await producer.flush()
    finally:
        await producer.stop()

    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(140, 36)) as pilot:
        app.push_screen(TopicScreen(unique, []))
        await pilot.pause()
        await wait_for(lambda: app.screen.query_one("#partitions-table", DataTable).row_count == 2, "the partitions")
        await pilot.press("v")
        assert isinstance(app.screen, RecordsScreen)
        view = app.screen
        table = view.query_one("#records-table", DataTable)

        def shown() -> list[tuple[str, str]]:
            return [(str(table.get_row_at(i)[0]), str(table.get_row_at(i)[1])) for i in range(table.row_count)]

        await wait_for(lambda: len(shown()) == 10, "partition 0's last records")

        async def start_at(values: dict[str, str]) -> None:
            await pilot.press("s")
            assert isinstance(app.screen, RecordsStartForm)
            for name in ("partitions", "tail", "offset", "time", "group"):
                app.screen.query_one(f"#s-{name}", Input).value = values.get(name, "")
            await pilot.pause()
            app.screen.query_one("#s-partitions", Input).focus()
            await pilot.press("enter")

        await start_at({"partitions": "1", "time": "1970-01-01T00:16:46.500Z"})  # 1,006,500 ms: from 1,007,000
        await wait_for(lambda: shown() == [("1", "7"), ("1", "8"), ("1", "9")], "partition 1 from the time")
        await start_at({"partitions": "0,1", "offset": "8"})
        await wait_for(lambda: sorted(shown()) == [("0", "8"), ("0", "9"), ("1", "8"), ("1", "9")], "from offset 8")
        await start_at({"partitions": "0", "tail": "3"})
        await wait_for(lambda: shown() == [("0", "7"), ("0", "8"), ("0", "9")], "the last 3 of partition 0")
        assert "the last 3" in str(view.query_one("#records-title", Static).render())

        await start_at({"tail": "3", "offset": "2"})  # two starts: refused under the field, nothing read
        form = app.screen
        assert isinstance(form, RecordsStartForm)
        assert "choose one start" in str(form.query_one("#s-offset-error", Static).render()) + str(
            form.query_one("#s-tail-error", Static).render())
        await pilot.press("escape")
        assert app.screen is view and shown() == [("0", "7"), ("0", "8"), ("0", "9")]
