"""Consumer groups: state, members, total lag with its trend, partitions without a commit."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from kafka_sre_tui.engine.drain import Assessment, DrainTracker, TrackerSettings
from kafka_sre_tui.engine.drain.samples import GroupSample
from kafka_sre_tui.engine.models import GroupInfo
from kafka_sre_tui.tui.filtering import matcher
from kafka_sre_tui.tui.sparkline import sparkline
from kafka_sre_tui.tui.table_sync import sync_rows
from kafka_sre_tui.tui.widgets.cells import num, sort_key
from kafka_sre_tui.tui.widgets.status_cell import status_cell

# What matters most comes first, so it stays on screen at 80 columns.
COLUMNS = (("Group", "group"), ("Status", "status"), ("Total lag", "lag"), ("Trend", "trend"), ("State", "state"),
           ("Members", "members"), ("No commit", "no_commit"), ("Topics", "topics"), ("Why", "reason"))
HISTORY = 60  # samples of total lag kept per group
JUDGE_CHUNK = 10  # groups judged between two yields to the event loop


class GroupsPane(Vertical):
    def __init__(self, refresh_seconds: float = 5.0) -> None:
        super().__init__(id="groups-pane")
        # the pane owns its table: refreshes may arrive before it is mounted or after it is gone
        self.table: DataTable[Any] = DataTable(id="groups-table", cursor_type="row", zebra_stripes=True)
        for label, key in COLUMNS:
            self.table.add_column(label, key=key)
        self.groups: list[GroupInfo] = []
        self.history: dict[str, deque[int]] = {}
        self.sort_by_lag = False
        # the lag engine judges every group from the refreshes themselves: no extra requests
        self.tracker_settings = TrackerSettings(window_seconds=max(30.0, 6 * refresh_seconds),
                                                stall_seconds=max(60.0, 6 * refresh_seconds))
        self.trackers: dict[str, DrainTracker] = {}
        self.statuses: dict[str, tuple[str, str]] = {}
        self.assessments: dict[str, Assessment] = {}

    def compose(self) -> ComposeResult:
        yield self.table


    def show(self, groups: list[GroupInfo], pattern: str, now: float | None = None) -> None:
        """Lags and trends at once; the lag engine's verdicts follow from a worker (see _judge)."""
        self.groups = groups
        for g in groups:
            self.history.setdefault(g.group_id, deque(maxlen=HISTORY)).append(g.total_lag)
        self.render_rows(pattern)
        self._judge(groups, time.time() if now is None else now, pattern)

    @work(exclusive=True, group="judge-groups")
    async def _judge(self, groups: list[GroupInfo], at: float, pattern: str) -> None:
        """Judging hundreds of groups is many milliseconds of Python: done a few groups at a time,
        giving the event loop back in between, so no frame waits for all of it."""
        for i, g in enumerate(groups):
            tracker = self.trackers.setdefault(g.group_id, DrainTracker(self.tracker_settings))
            assessment = tracker.observe(GroupSample.from_group(g, at))
            self.statuses[g.group_id] = (assessment.status.value, assessment.reason)
            self.assessments[g.group_id] = assessment
            if i % JUDGE_CHUNK == JUDGE_CHUNK - 1:
                await asyncio.sleep(0)
        self.render_rows(pattern)

    def render_rows(self, pattern: str) -> None:
        keep = matcher(pattern)
        rows: dict[str, tuple[Any, ...]] = {
            g.group_id: (g.group_id, status_cell(self.statuses.get(g.group_id, ("UNKNOWN", ""))[0]),
                         num(g.total_lag), sparkline(self.history.get(g.group_id, ())), g.state,
                         num(len(g.members)), num(g.partitions_without_commit), ",".join(g.topics),
                         self.statuses.get(g.group_id, ("", ""))[1])
            for g in self.groups if keep(g.group_id)}
        table = self.table
        sync_rows(table, rows)
        if self.sort_by_lag:
            table.sort("lag", key=sort_key, reverse=True)

    def selected(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
