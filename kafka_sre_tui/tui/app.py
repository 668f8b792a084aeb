"""The dashboard's first window: the cluster's topics and consumer groups, refreshed in the background."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from kafka_sre_tui.config import MIN_REFRESH_SECONDS, ClusterConfig, UiSettings
from kafka_sre_tui.engine.cluster import list_topics
from kafka_sre_tui.engine.connection import KafkaSession
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.groups import list_groups
from kafka_sre_tui.engine.models import GroupInfo, TopicInfo
from kafka_sre_tui.tui.table_sync import sync_rows
from kafka_sre_tui.tui.themes import load_project_themes

TOPIC_COLUMNS = ("Topic", "Partitions", "RF", "Messages", "URP")
GROUP_COLUMNS = ("Group", "State", "Members", "Topics", "Total lag", "No commit")


class KsreApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "kafka-sre-tui"
    BINDINGS = [
        Binding("r", "refresh_now", "Refresh"),
        Binding("t", "show_tab('topics')", "Topics"),
        Binding("g", "show_tab('groups')", "Groups"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, cluster: ClusterConfig, ui: UiSettings | None = None,
                 background: Callable[[], Awaitable[None]] | None = None) -> None:
        super().__init__()
        self.cluster = cluster
        self.ui = ui or UiSettings()
        self.background = background
        self._session: KafkaSession | None = None
        self._last_good: float | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="topics"):
            with TabPane("Topics", id="topics"):
                yield DataTable(id="topics-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Consumer groups", id="groups"):
                yield DataTable(id="groups-table", cursor_type="row", zebra_stripes=True)
        yield Static("connecting…", id="status")
        yield Footer()

    def on_mount(self) -> None:
        for theme in load_project_themes():
            self.register_theme(theme)
        if self.ui.theme in self.available_themes:
            self.theme = self.ui.theme
        self.sub_title = f"{self.cluster.name} ({','.join(self.cluster.bootstrap_servers)})" + (
            " · read-only" if self.cluster.read_only else "")
        if self.cluster.color:
            self.query_one(Header).styles.background = self.cluster.color
        self.query_one("#topics-table", DataTable).add_columns(*TOPIC_COLUMNS)
        self.query_one("#groups-table", DataTable).add_columns(*GROUP_COLUMNS)
        if self.background is not None:
            self.run_worker(self.background(), name="background", group="background")
        self.refresh_data()
        self.set_interval(max(self.ui.refresh_seconds, MIN_REFRESH_SECONDS), self.refresh_data)

    def action_refresh_now(self) -> None:
        self.refresh_data()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    @work(exclusive=True, group="refresh")
    async def refresh_data(self) -> None:
        status = self.query_one("#status", Static)
        started = time.monotonic()
        try:
            if self._session is None:
                self._session = await KafkaSession(self.cluster).__aenter__()
            topics = await list_topics(self._session)
            self._show_topics(topics)
            groups = await list_groups(self._session)
            self._show_groups(groups)
        except KsreError as exc:
            await self._drop_session()
            since = (f"stale since {datetime.fromtimestamp(self._last_good):%H:%M:%S}"
                     if self._last_good else "no data yet")
            status.update(f"[b red]{since}[/]: {exc}")
            return
        self._last_good = time.time()
        status.update(f"refreshed {datetime.now():%H:%M:%S} in {time.monotonic() - started:.2f} s · "
                      f"{len(topics)} topics · {len(groups)} groups · every {self.ui.refresh_seconds:g} s")

    async def _drop_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.__aexit__(None, None, None)

    async def on_unmount(self) -> None:
        await self._drop_session()

    def _show_topics(self, topics: list[TopicInfo]) -> None:
        rows: dict[str, tuple[Any, ...]] = {
            t.name: (t.name, *map(_num, (len(t.partitions), t.replication_factor, t.messages, t.under_replicated)))
            for t in topics}
        sync_rows(self.query_one("#topics-table", DataTable), rows)

    def _show_groups(self, groups: list[GroupInfo]) -> None:
        rows: dict[str, tuple[Any, ...]] = {
            g.group_id: (g.group_id, g.state, _num(len(g.members)), ",".join(g.topics), _num(g.total_lag),
                         _num(g.partitions_without_commit)) for g in groups}
        sync_rows(self.query_one("#groups-table", DataTable), rows)


def _num(value: int) -> Text:
    return Text(f"{value:,}", justify="right")
