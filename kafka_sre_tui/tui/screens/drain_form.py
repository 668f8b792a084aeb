"""Start a drain monitor with ``kafka-sre-tui drain``'s goal and sampling options (``D``; ``d`` starts
one with the defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import Static

from kafka_sre_tui.engine.drain import DrainGoal, MonitorSettings, TrackerSettings
from kafka_sre_tui.tui.screens.form_fields import Field, JobForm

HOLD, STALL_SECONDS, WINDOW_SECONDS = 3, 60.0, 30.0  # the CLI's defaults


@dataclass(frozen=True)
class DrainChoice:
    goal: DrainGoal
    settings: MonitorSettings


class DrainForm(JobForm[DrainChoice | None]):
    PREFIX = "d"
    NOTIFIES = True
    SUBMIT = ("start", "Start monitor")
    FIELDS = {
        "max_lag": Field("Max total lag", "--max-lag"),
        "max_partition_lag": Field("Max partition lag", "--max-partition-lag"),
        "max_lag_seconds": Field("Max lag in time (s)", "--max-lag-seconds"),
        "timeout_seconds": Field("Give up after (s)", "--timeout-seconds"),
        "hold": Field("The goal holds for (samples)", "--hold"),
        "interval": Field("Sample every (s)", "--interval"),
        "stall_seconds": Field("STALLED after (s)", "--stall-seconds"),
        "window_seconds": Field("Rates fitted over (s)", "--window-seconds"),
    }

    def __init__(self, group_id: str, interval: float) -> None:
        super().__init__()
        self.group_id = group_id
        self.interval = interval

    def heading(self) -> str:
        return f"Drain monitor for group {self.group_id}"

    def body(self) -> ComposeResult:
        yield from self.text("max_lag", placeholder="records (empty: 0 if no goal)")
        yield from self.text("max_partition_lag", placeholder="records; empty: no limit")
        yield from self.text("max_lag_seconds", placeholder="empty: no limit")
        yield from self.text("timeout_seconds", placeholder="empty: never")
        yield from self.text("hold", str(HOLD))
        yield from self.text("interval", f"{self.interval:g}")
        yield from self.text("stall_seconds", f"{STALL_SECONDS:g}")
        yield from self.text("window_seconds", f"{WINDOW_SECONDS:g}")
        yield Static("[dim]Drained when every goal given holds; a STALLED group rings the bell and the "
                     "monitor goes on.[/]", classes="form-hint")

    def build(self) -> DrainChoice:
        goal = DrainGoal(max_lag=self.whole("max_lag"), max_partition_lag=self.whole("max_partition_lag"),
                         max_lag_seconds=self.number("max_lag_seconds"), hold_samples=self.whole_or("hold", HOLD),
                         timeout_seconds=self.number("timeout_seconds"), stop_when_stalled=False)
        tracker = TrackerSettings(window_seconds=self.number_or("window_seconds", WINDOW_SECONDS),
                                  stall_seconds=self.number_or("stall_seconds", STALL_SECONDS))
        return DrainChoice(goal, MonitorSettings(interval_seconds=self.number_or("interval", self.interval),
                                                 tracker=tracker))
