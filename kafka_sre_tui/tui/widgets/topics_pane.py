"""Topics: partitions, replication, messages, produce rate, under-replicated partitions."""

from __future__ import annotations

import time
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from kafka_sre_tui.engine.models import TopicInfo
from kafka_sre_tui.tui.filtering import matcher
from kafka_sre_tui.tui.table_sync import sync_rows
from kafka_sre_tui.tui.widgets.cells import num

COLUMNS = (("Topic", "topic"), ("Partitions", "partitions"), ("RF", "rf"), ("Messages", "messages"),
           ("Rate", "rate"), ("URP", "urp"))


class TopicsPane(Vertical):
    def __init__(self) -> None:
        super().__init__(id="topics-pane")
        # the pane owns its table: refreshes may arrive before it is mounted or after it is gone
        self.table: DataTable[Any] = DataTable(id="topics-table", cursor_type="row", zebra_stripes=True)
        for label, key in COLUMNS:
            self.table.add_column(label, key=key)
        self.topics: list[TopicInfo] = []
        self._latest: dict[str, tuple[float, int]] = {}  # topic -> (time, sum of latest offsets)
        self._rates: dict[str, float] = {}

    def compose(self) -> ComposeResult:
        yield self.table


    def show(self, topics: list[TopicInfo], with_offsets: bool, pattern: str) -> None:
        self.topics = topics
        if with_offsets:
            self._update_rates(topics)
        self.render_rows(pattern)

    def render_rows(self, pattern: str) -> None:
        keep = matcher(pattern)
        rows: dict[str, tuple[Any, ...]] = {
            t.name: (t.name, num(len(t.partitions)), num(t.replication_factor), num(t.messages),
                     num(self._rates.get(t.name), " msg/s"), num(t.under_replicated))
            for t in self.topics if keep(t.name)}
        sync_rows(self.table, rows)

    def _update_rates(self, topics: list[TopicInfo]) -> None:
        now = time.monotonic()
        for t in topics:
            latest = sum(p.latest_offset or 0 for p in t.partitions)
            before = self._latest.get(t.name)
            if before is not None and now > before[0]:
                self._rates[t.name] = max(0.0, (latest - before[1]) / (now - before[0]))
            self._latest[t.name] = (now, latest)
