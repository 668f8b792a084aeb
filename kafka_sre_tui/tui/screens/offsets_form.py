"""Reset a group's offsets from the dashboard: the CLI's `offsets reset`, dry run first, committed only
after the group's name is typed. The engine makes the same checks (read_only, active members), writes
the snapshot first and audit-logs the outcome."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from kafka_sre_tui.cli.args import parse_partitions, parse_time
from kafka_sre_tui.engine.errors import ConfigError, KsreError
from kafka_sre_tui.engine.group_offsets.execute import active_members_text, execute
from kafka_sre_tui.engine.group_offsets.reset import (
    EARLIEST_SPEC,
    LATEST_SPEC,
    OFFSET,
    SHIFT,
    SKIP,
    TIME,
    ResetPlan,
    ResetTarget,
    plan_reset,
)

_WITH_NUMBER = {"offset": OFFSET, "shift": SHIFT, "skip": SKIP}


def parse_target(text: str) -> ResetTarget:
    """``earliest`` | ``latest`` | ``offset N`` | ``shift N`` | ``skip N`` | an ISO time."""
    words = text.split()
    if words in (["earliest"], ["latest"]):
        return ResetTarget(EARLIEST_SPEC if words[0] == "earliest" else LATEST_SPEC)
    if len(words) == 2 and words[0] in _WITH_NUMBER:
        try:
            return ResetTarget(_WITH_NUMBER[words[0]], int(words[1]))
        except ValueError:
            pass
    if len(words) == 1 and words[0][:1].isdigit():
        return ResetTarget(TIME, parse_time(words[0]))
    raise ConfigError(f"target: earliest, latest, offset N, shift N, skip N or an ISO time; got '{text}'")


def plan_text(plan: ResetPlan) -> str:
    lines = [f"DRY RUN for group {plan.group} on {plan.topic}, {plan.target.describe()}:"]
    lines += [f"  partition {m.partition}: {'no commit' if m.current is None else m.current} → {m.new}  "
              f"({m.skipped:,} skipped, {m.replayed:,} replayed)" for m in plan.moves]
    lines += [f"  note: {n}" for n in plan.notes]
    if plan.members:
        lines.append(f"  refused while the group has {active_members_text(plan.group_info())}")
    return "\n".join(lines)


class OffsetsResetForm(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Cancel")]

    def __init__(self, group: str, topic: str, partitions: tuple[int, ...] | None, target: str = "") -> None:
        super().__init__()
        self.group, self.topic = group, topic
        self.partitions_text = ",".join(map(str, partitions)) if partitions else ""
        self.target_text = target
        self.plan: ResetPlan | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(f"Reset offsets of group {escape(self.group)} on {escape(self.topic)}")
            yield Input(self.target_text, placeholder="earliest | latest | offset N | shift N | skip N | ISO time",
                        id="reset-target")
            yield Input(self.partitions_text, placeholder="partitions, e.g. 0,3 (empty: all)", id="reset-partitions")
            yield Static("Enter: dry run (nothing is written)", id="reset-plan")
            yield Input(placeholder=f"type {self.group} to commit", id="reset-confirm")
            with Horizontal(classes="buttons"):
                yield Button("Dry run", id="reset-dry")
                yield Button("Commit", variant="error", id="reset-commit", disabled=True)

    @on(Input.Submitted, "#reset-target, #reset-partitions")
    @on(Button.Pressed, "#reset-dry")
    def _dry_run(self) -> None:
        self.plan = None
        self._update_commit()
        try:
            target = parse_target(self.query_one("#reset-target", Input).value)
            text = self.query_one("#reset-partitions", Input).value.strip()
            partitions = parse_partitions(text) if text else None
        except ConfigError as exc:
            self.query_one("#reset-plan", Static).update(f"[b red]{escape(str(exc))}[/]")
            return
        self._plan(target, partitions)

    @work(exclusive=True, group="offsets-form")
    async def _plan(self, target: ResetTarget, partitions: tuple[int, ...] | None) -> None:
        app: Any = self.app

        async def fetch() -> ResetPlan:
            return await plan_reset(await app.refresher.session(), self.group, self.topic, partitions, target)

        try:
            self.plan = await app.engine.run(fetch())
        except KsreError as exc:
            self.query_one("#reset-plan", Static).update(f"[b red]{escape(str(exc))}[/]")
            return
        self.query_one("#reset-plan", Static).update(escape(plan_text(self.plan)))
        self._update_commit()

    @on(Input.Changed, "#reset-confirm")
    def _update_commit(self) -> None:
        typed = self.query_one("#reset-confirm", Input).value == self.group
        self.query_one("#reset-commit", Button).disabled = not (typed and self.plan is not None)

    @on(Button.Pressed, "#reset-commit")
    @work(exclusive=True, group="offsets-form")
    async def _commit(self) -> None:
        app: Any = self.app
        plan = self.plan
        if plan is None:
            return

        async def run() -> str:
            done = await execute(await app.refresher.session(), plan)
            return done.snapshot.snapshot_id

        try:
            snapshot_id = await app.engine.run(run())
        except KsreError as exc:
            self.query_one("#reset-plan", Static).update(f"[b red]not committed: {escape(str(exc))}[/]")
            return
        self.plan = None
        self._update_commit()
        self.query_one("#reset-plan", Static).update(
            f"committed. Previous offsets saved: undo with kafka-sre-tui offsets rollback {escape(snapshot_id)}")
