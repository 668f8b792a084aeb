"""Start a backup: the CLI's options as a form, checked by the engine before anything runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from kafka_sre_tui.config import COMPRESSIONS, BackupSettings
from kafka_sre_tui.engine.backup_plan import BackupRequest, validate_request
from kafka_sre_tui.engine.errors import ConfigError

_FIELDS = (("topic", "Topic"), ("partitions", "Partitions (e.g. 0,3; empty: all)"),
           ("from_offset", "From offset (empty: earliest)"), ("to_offset", "To offset, inclusive (empty: end)"),
           ("max_messages", "Max messages per partition (empty: all)"))


class BackupForm(ModalScreen[BackupRequest | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, topic: str, settings: BackupSettings) -> None:
        super().__init__()
        self.topic = topic
        self.settings = settings

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static("New backup", classes="form-title")
            for name, label in _FIELDS:
                yield Label(label)
                yield Input(self.topic if name == "topic" else "", id=f"f-{name}")
            yield Label("Compression")
            yield Select([(c, c) for c in COMPRESSIONS], value=self.settings.compression, id="f-compression",
                         allow_blank=False)
            yield Static("", id="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Start backup", variant="primary", id="start")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self._submit()
        else:
            self.dismiss(None)

    def on_input_submitted(self) -> None:
        self._submit()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        try:
            request = self.request()
            validate_request(request)
        except ConfigError as exc:
            self.query_one("#form-error", Static).update(f"[b red]{exc}[/]")
            return
        self.dismiss(request)

    def request(self) -> BackupRequest:
        def value(name: str) -> str:
            return self.query_one(f"#f-{name}", Input).value.strip()

        def number(name: str, label: str) -> int | None:
            text = value(name)
            if not text:
                return None
            if not text.isdigit():
                raise ConfigError(f"{label}: expected a whole number, got '{text}'")
            return int(text)

        topic = value("topic")
        if not topic:
            raise ConfigError("Topic: give the topic to back up")
        parts = value("partitions")
        try:
            partitions = tuple(int(p) for p in parts.split(",")) if parts else None
        except ValueError:
            raise ConfigError(f"Partitions: expected numbers like 0,3; got '{parts}'") from None
        compression = str(self.query_one("#f-compression", Select).value)
        return dataclasses.replace(
            BackupRequest(topic=topic, base_path=Path(self.settings.base_path).expanduser()),
            compression=compression, partitions=partitions, from_offset=number("from_offset", "From offset"),
            to_offset=number("to_offset", "To offset"), max_messages=number("max_messages", "Max messages"),
            max_concurrent_backups=self.settings.max_concurrent_backups)
