"""Restore a backup into the active cluster: choose the target, then see the dry run before writing."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from kafka_sre_tui.engine.restore_plan import RestoreRequest
from kafka_sre_tui.engine.restore_preflight import FAIL, Preflight


class RestoreForm(ModalScreen[RestoreRequest | None]):
    """Asks where to restore; answers with a dry-run request (the preflight comes next)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, base: Path, backup_id: str, topic: str, cluster: str) -> None:
        super().__init__()
        self.base, self.backup_id, self.topic, self.cluster = base, backup_id, topic, cluster

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(f"Restore {self.backup_id}\ninto cluster {self.cluster}", classes="form-title")
            yield Label("Target topic")
            yield Input(self.topic, id="r-topic")
            yield Checkbox("Create the topic (backup's partitions and configs)", True, id="r-create")
            yield Checkbox("Restore consumer offsets of the backed-up groups", False, id="r-offsets")
            with Horizontal(classes="buttons"):
                yield Button("Check (dry run)", variant="primary", id="check")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "check":
            self.dismiss(None)
            return
        topic = self.query_one("#r-topic", Input).value.strip() or self.topic
        self.dismiss(RestoreRequest(
            backup_base=self.base, backup_id=self.backup_id, target_topic=topic, dry_run=True,
            create_topic=self.query_one("#r-create", Checkbox).value,
            restore_consumer_offsets=() if self.query_one("#r-offsets", Checkbox).value else None))


class PreflightScreen(ModalScreen[bool]):
    """The dry run's checks. Writing into an existing topic needs its name typed again."""

    BINDINGS = [Binding("escape", "dismiss(False)", "Cancel")]

    def __init__(self, preflight: Preflight) -> None:
        super().__init__()
        self.preflight = preflight

    def compose(self) -> ComposeResult:
        p = self.preflight
        marks = {"ok": "[green]ok  [/]", "warn": "[yellow]warn[/]", FAIL: "[b red]FAIL[/]"}
        lines = [f"{marks.get(c.level, c.level)} {c.name}: {c.message}" for c in p.checks]
        with Vertical(id="form"):
            yield Static(f"Preflight: {p.records:,} records ({p.bytes / 1e6:,.1f} MB) into {p.cluster}/{p.topic}"
                         f"{' (created)' if p.create else ' (existing topic)'}", classes="form-title")
            yield Static("\n".join(lines) or "no checks")
            if not p.ok:
                yield Static("[b red]Refused: fix the failed checks (or use the CLI's options).[/]")
            elif not p.create:
                yield Label(f"The topic exists: type its name ({p.topic}) to write into it")
                yield Input(id="confirm-topic")
            with Horizontal(classes="buttons"):
                if p.ok:
                    yield Button("Start restore", variant="error", id="start", disabled=not p.create)
                yield Button("Cancel", id="cancel")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#start", Button).disabled = event.value.strip() != self.preflight.topic

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "start")
