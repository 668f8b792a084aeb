"""Consumer groups: state, members, total lag with its trend, partitions without a commit."""

from __future__ import annotations

from collections import deque
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from kafka_sre_tui.engine.models import GroupInfo
from kafka_sre_tui.tui.filtering import matcher
from kafka_sre_tui.tui.sparkline import sparkline
from kafka_sre_tui.tui.table_sync import sync_rows
from kafka_sre_tui.tui.widgets.cells import num, sort_key

COLUMNS = (("Group", "group"), ("State", "state"), ("Members", "members"), ("Topics", "topics"),
           ("Total lag", "lag"), ("Trend", "trend"), ("No commit", "no_commit"))
HISTORY = 60  # samples of total lag kept per group


class GroupsPane(Vertical):
    def __init__(self) -> None:
        super().__init__(id="groups-pane")
        self.groups: list[GroupInfo] = []
        self.history: dict[str, deque[int]] = {}
        self.sort_by_lag = False

    def compose(self) -> ComposeResult:
        yield DataTable(id="groups-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key in COLUMNS:
            table.add_column(label, key=key)

    def show(self, groups: list[GroupInfo], pattern: str) -> None:
        self.groups = groups
        for g in groups:
            self.history.setdefault(g.group_id, deque(maxlen=HISTORY)).append(g.total_lag)
        self.render_rows(pattern)

    def render_rows(self, pattern: str) -> None:
        keep = matcher(pattern)
        rows: dict[str, tuple[Any, ...]] = {
            g.group_id: (g.group_id, g.state, num(len(g.members)), ",".join(g.topics), num(g.total_lag),
                         sparkline(self.history.get(g.group_id, ())), num(g.partitions_without_commit))
            for g in self.groups if keep(g.group_id)}
        table = self.query_one(DataTable)
        sync_rows(table, rows)
        if self.sort_by_lag:
            table.sort("lag", key=sort_key, reverse=True)
