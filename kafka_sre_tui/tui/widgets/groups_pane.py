"""Consumer groups: data loss ahead (AT RISK / LOST, sorted first), state, members, total lag with its
trend, partitions without a commit."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical

from kafka_sre_tui.cli import data_loss_output
from kafka_sre_tui.engine.drain import Assessment, DrainTracker, TrackerSettings
from kafka_sre_tui.engine.drain.data_loss import DataLoss
from kafka_sre_tui.engine.drain.samples import GroupSample
from kafka_sre_tui.engine.models import GroupInfo, TopicPartition
from kafka_sre_tui.tui.background_rows import RowRenderer
from kafka_sre_tui.tui.filtering import matcher
from kafka_sre_tui.tui.sparkline import sparkline
from kafka_sre_tui.tui.widgets.cells import number, sort_key
from kafka_sre_tui.tui.widgets.live_table import Cell, Column, LiveTable, PreparedRows, prepare_rows
from kafka_sre_tui.tui.widgets.status_cell import status_cell

# What matters most comes first, so it stays on screen at 80 columns.
COLUMNS = (Column("Group", "group"), Column("Status", "status"), Column("Data loss", "data_loss"),
           Column("Total lag", "lag", "right"),
           Column("Trend", "trend"), Column("State", "state"), Column("Type", "type"),
           Column("Members", "members", "right"),
           Column("No commit", "no_commit", "right"), Column("Topics", "topics"), Column("Why", "reason"))
LAG_COLUMN, LOSS_COLUMN = 3, 2
HISTORY = 60  # samples of total lag kept per group
# Samples the lag engine keeps per group (interpolated lag in time looks this far back): 500 groups
# with the engine's default of 600 would hold ~2 million sample objects after an hour.
TRACKER_SAMPLES = 120


class GroupsPane(Vertical):
    def __init__(self, refresh_seconds: float = 5.0) -> None:
        super().__init__(id="groups-pane")
        # the pane owns its table: refreshes may arrive before it is mounted or after it is gone
        self.table = LiveTable(COLUMNS, id="groups-table")
        self.groups: list[GroupInfo] = []
        self.history: dict[str, deque[int]] = {}
        self.sort_by_lag = False
        # the lag engine judges every group from the refreshes themselves: no extra requests
        self.tracker_settings = TrackerSettings(window_seconds=max(30.0, 6 * refresh_seconds),
                                                stall_seconds=max(60.0, 6 * refresh_seconds),
                                                history_samples=TRACKER_SAMPLES)
        self.trackers: dict[str, DrainTracker] = {}
        self.statuses: dict[str, tuple[str, str]] = {}
        self.assessments: dict[str, Assessment] = {}
        self._judging = threading.Lock()
        self._generation = 0  # bumped on a switch of cluster: a judging thread still running is ignored
        self.pattern = ""
        self.losses: dict[str, dict[TopicPartition, DataLoss]] = {}  # from the refresh's last stage
        self.renderer = RowRenderer(self, self.table, "render-groups")

    def compose(self) -> ComposeResult:
        yield self.table


    def show(self, groups: list[GroupInfo], pattern: str, now: float | None = None) -> None:
        """Lags and trends at once; the lag engine's verdicts follow (see _judge)."""
        self.groups = groups
        for g in groups:
            self.history.setdefault(g.group_id, deque(maxlen=HISTORY)).append(g.total_lag)
        self.render_rows(pattern)
        self._judge(groups, time.time() if now is None else now)

    def show_losses(self, losses: dict[str, dict[TopicPartition, DataLoss]]) -> None:
        self.losses = losses
        self.render_rows(self.pattern)

    # a description, or Textual builds one from repr() of every group on the UI thread (a 1 s frame at 2,500 groups)
    @work(exclusive=True, group="judge-groups", description="judging the groups' lag")
    async def _judge(self, groups: list[GroupInfo], at: float) -> None:
        """Judging hundreds of groups is many milliseconds of Python: done in a thread, so no
        frame waits for it. The rows then follow the filter as it is now, not as it was."""
        await asyncio.to_thread(self._judge_all, groups, at, self._generation)
        self.render_rows(self.pattern)

    def _judge_all(self, groups: list[GroupInfo], at: float, generation: int) -> None:
        with self._judging:  # a cancelled worker's thread may still be finishing the last round
            if generation != self._generation:
                return
            for g in groups:
                tracker = self.trackers.setdefault(g.group_id, DrainTracker(self.tracker_settings))
                assessment = tracker.observe(GroupSample.from_group(g, at))
                self.statuses[g.group_id] = (assessment.status.value, assessment.reason)
                self.assessments[g.group_id] = assessment

    def latest_assessments(self) -> list[Assessment]:
        """The lag engine's latest verdict on every group (a copy; safe from another thread)."""
        with self._judging:
            return list(self.assessments.values())

    def clear(self) -> None:
        """Another cluster: its groups share nothing with these, not even when names match."""
        self.workers.cancel_group(self, "judge-groups")
        self.renderer.cancel()
        self.table.clear()
        self.groups = []
        with self._judging:
            self._generation += 1
            self.history.clear()
            self.trackers.clear()
            self.statuses.clear()
            self.assessments.clear()
        self.losses = {}

    def render_rows(self, pattern: str) -> None:
        self.pattern = pattern
        groups, keep, by_lag = self.groups, matcher(pattern), self.sort_by_lag

        def prepare() -> PreparedRows:
            rows = [(g.group_id, self._cells(g)) for g in groups if keep(g.group_id)]
            if by_lag:
                rows.sort(key=lambda row: sort_key(row[1][LAG_COLUMN]), reverse=True)
            rows.sort(key=lambda row: data_loss_output.marker_rank(_plain(row[1][LOSS_COLUMN])))  # stable
            return prepare_rows(COLUMNS, rows)

        self.renderer.render(len(groups), prepare)

    def _cells(self, g: GroupInfo) -> tuple[Cell, ...]:
        from kafka_sre_tui.engine.backup.workers_label import WORKERS_LABEL, is_workers_group  # not before 1st frame

        status, reason = self.statuses.get(g.group_id, ("UNKNOWN", ""))
        marker = data_loss_output.group_marker(self.losses.get(g.group_id, {}))
        return (g.group_id, status_cell(status), Text(marker, style="bold red" if marker else ""),
                number(g.total_lag), sparkline(self.history.get(g.group_id, ())),
                g.state, WORKERS_LABEL if is_workers_group(g) else g.group_type, number(len(g.members)),
                number(g.partitions_without_commit),
                ",".join(g.topics), reason)

    def selected(self) -> str | None:
        return self.table.selected_key


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell
