"""Clusters: every configured cluster with reachability; the active one with its partition health."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from kafka_sre_tui.engine.models import ClusterOverview, TopicInfo
from kafka_sre_tui.tui.table_sync import sync_rows
from kafka_sre_tui.tui.widgets.cells import num

COLUMNS = (("Cluster", "name"), ("Bootstrap", "bootstrap"), ("Status", "status"), ("Brokers", "brokers"),
           ("Controller", "controller"), ("Topics", "topics"), ("Partitions", "partitions"), ("URP", "urp"),
           ("Offline", "offline"), ("Mode", "mode"))


class ClustersPane(Vertical):
    def __init__(self, clusters: dict[str, tuple[str, bool]], active: str) -> None:
        """``clusters``: name -> (bootstrap text, read_only)."""
        super().__init__(id="clusters-pane")
        # the pane owns its table: refreshes may arrive before it is mounted or after it is gone
        self.table: DataTable[Any] = DataTable(id="clusters-table", cursor_type="row")
        for label, key in COLUMNS:
            self.table.add_column(label, key=key)
        self.clusters = clusters
        self.active = active
        self.probes: dict[str, tuple[ClusterOverview | None, str | None]] = {}
        self.topics: list[TopicInfo] = []
        self._counts: tuple[int | None, ...] = (0, 0, 0, 0)  # topics, partitions, under-replicated, offline

    def compose(self) -> ComposeResult:
        yield self.table

    def on_mount(self) -> None:
        self.render_rows()

    def probed(self, name: str, overview: ClusterOverview | None, error: str | None) -> None:
        self.probes[name] = (overview, error)
        self.render_rows()

    def show_topics(self, topics: list[TopicInfo]) -> None:
        self.topics = topics
        parts = [p for t in topics for p in t.partitions]
        # counted once per refresh, not at every cluster's probe (40,000 partitions is tens of ms)
        self._counts = (len(topics), len(parts), sum(p.under_replicated for p in parts), sum(p.offline for p in parts))
        self.render_rows()

    def render_rows(self) -> None:
        rows: dict[str, tuple[Any, ...]] = {}
        for name, (bootstrap, read_only) in self.clusters.items():
            overview, error = self.probes.get(name, (None, None))
            status = "unreachable" if error else ("ok" if overview else "…")
            active = name == self.active
            counts = self._counts if active else (None, None, None, None)
            rows[name] = (
                f"▶ {name}" if active else name, bootstrap, status,
                num(len(overview.brokers)) if overview else num(None),
                num(overview.controller_id) if overview else num(None),
                *(num(n) for n in counts),
                "read-only" if read_only else "")
        sync_rows(self.table, rows)
