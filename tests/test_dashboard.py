"""The first dashboard window, driven with Textual's Pilot against the real broker."""

from __future__ import annotations

from textual.widgets import DataTable, Static, TabbedContent

from kafka_sre_tui.config import ClusterConfig, UiSettings
from kafka_sre_tui.localkafka import LocalKafka, free_port
from kafka_sre_tui.tui.app import KsreApp
from tests.kafka_helpers import consume_and_commit, create_topic, produce, wait_for


def _row(table: DataTable, key: str) -> list[str] | None:  # type: ignore[type-arg]
    """The row as the user reads it (plain text of every cell), or None when absent."""
    if key not in {k.value for k in table.rows}:
        return None
    return [str(cell) for cell in table.get_row(key)]


async def test_topics_and_group_lag_appear_and_follow_the_cluster(kafka: LocalKafka, cluster: ClusterConfig,
                                                                  unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 3)
    await produce(bs, unique, {0: 10, 1: 10, 2: 10})
    await consume_and_commit(bs, f"{unique}-g", unique, {0: 10, 1: 4})

    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(120, 30)) as pilot:
        topics = app.query_one("#topics-table", DataTable)
        groups = app.query_one("#groups-table", DataTable)
        await wait_for(lambda: _row(topics, unique) is not None, "the topic row")
        assert _row(topics, unique) == [unique, "3", "1", "30", "0"]

        await pilot.press("g")
        assert app.query_one(TabbedContent).active == "groups"
        await wait_for(lambda: _row(groups, f"{unique}-g") is not None, "the group row")
        assert _row(groups, f"{unique}-g") == [f"{unique}-g", "Empty", "0", unique, "6", "1"]

        await produce(bs, unique, {2: 5})  # the next refresh shows the new messages, in place
        await wait_for(lambda: (_row(topics, unique) or [""] * 4)[3] == "35", "the refreshed count")
        assert "refreshed" in str(app.query_one("#status", Static).render())


async def test_unreachable_cluster_shows_the_error_and_keeps_running() -> None:
    gone = ClusterConfig(name="gone", bootstrap_servers=(f"127.0.0.1:{free_port()}",), request_timeout_seconds=2)
    app = KsreApp(gone, UiSettings(refresh_seconds=1))
    async with app.run_test(size=(100, 24)) as pilot:
        status = app.query_one("#status", Static)
        await wait_for(lambda: "cannot connect" in str(status.render()), "the error in the status line")
        assert "no data yet" in str(status.render())
        await pilot.press("r")  # manual refresh still works, and the app is still alive
        assert app.is_running
