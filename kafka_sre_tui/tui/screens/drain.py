"""Drain monitor for one group: lag over time against the target, ETA with its range, status and why,
the data loss ahead, and the key of the record a partition that does not move is stuck on."""

from __future__ import annotations

from collections import deque

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual_plotext import PlotextPlot

from kafka_sre_tui.cli import data_loss_output
from kafka_sre_tui.engine.drain import Assessment, DrainGoal
from kafka_sre_tui.engine.drain.data_loss import DataLoss
from kafka_sre_tui.engine.drain.stuck import StuckRecord
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.tui.widgets.cells import num
from kafka_sre_tui.tui.widgets.status_cell import status_cell

POINTS = 300  # samples kept on the plot


class DrainScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back (the monitor keeps running in Jobs)")]

    def __init__(self, job_id: int, group_id: str, goal: DrainGoal) -> None:
        super().__init__()
        self.job_id = job_id
        self.group_id = group_id
        self.goal = goal
        self.target = goal.max_lag  # the plot's target line (none when the goal is per partition or in time)
        self.points: deque[tuple[float, int]] = deque(maxlen=POINTS)

    def compose(self) -> ComposeResult:
        yield Header()
        timeout = f", give up after {self.goal.timeout_seconds:g} s" if self.goal.timeout_seconds else ""
        yield Static(f"Drain monitor · group {self.group_id} · goal: {self.goal.describe()}{timeout}",
                     id="detail-title")
        yield PlotextPlot(id="drain-plot")
        yield Static("waiting for the first sample…", id="drain-status")
        yield DataTable(id="drain-partitions", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#drain-partitions", DataTable).add_columns(
            "Topic", "Partition", "Lag", "Lag in time", "In/s", "Out/s", "Status", "Data loss", "Stuck record key",
            "Why")

    def show(self, a: Assessment, losses: dict[TopicPartition, DataLoss] | None = None,
             stuck: dict[TopicPartition, StuckRecord] | None = None) -> None:
        """``losses``: time to data loss per partition; ``stuck``: the records the STALLED and STOPPED
        partitions are stuck on (from the drain job's sampler)."""
        losses, stuck = losses or {}, stuck or {}
        self.points.append((a.elapsed, a.total_lag))
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        xs = [x for x, _ in self.points]
        plt.plot(xs, [y for _, y in self.points], label="total lag")
        if self.target is not None:
            plt.plot([xs[0], xs[-1]] if len(xs) > 1 else [xs[0], xs[0] + 1], [self.target, self.target],
                     label="target", color="red")
        plt.xlabel("seconds")
        plot.refresh()
        lag_time = a.lag_time.describe() if a.lag_time is not None else "-"
        rates = (f"in {a.production_rate:,.1f}/s, out {a.consumption_rate:,.1f}/s"
                 if a.production_rate is not None and a.consumption_rate is not None else "rates after 2 samples")
        self.query_one("#drain-status", Static).update(
            f"[b]{a.status.value}[/b]: {a.reason} · {a.group_type} group, {a.state}, {a.member_count} members · "
            f"total lag {a.total_lag:,} · lag in time {lag_time} · {rates} · "
            f"ETA {a.eta.describe()}" + (f" · [b]{a.outcome.value}[/b]" if a.outcome else "")
            + (f"\n[b red]{escape(warning)}[/]" if (warning := data_loss_output.headline(losses)) else ""))
        table = self.query_one("#drain-partitions", DataTable)
        table.clear()
        for p in a.partitions:
            tp = TopicPartition(p.topic, p.partition)
            record = stuck.get(tp)
            table.add_row(p.topic, num(p.partition), num(p.lag),
                          p.lag_time.describe() if p.lag_time is not None else "-",
                          num(p.production_rate), num(p.consumption_rate), status_cell(p.status.value),
                          data_loss_output.short(losses.get(tp)), record.describe() if record else "-", p.reason)
