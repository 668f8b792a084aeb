"""Migrate the selected topic to another cluster or topic; an existing target needs its name typed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from kafka_sre_tui.engine.migrate.request import MigrateRequest


class MigrateForm(ModalScreen[tuple[str, MigrateRequest] | None]):
    """Answers with the target cluster's name and the request."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, topic: str, source: str, clusters: list[str]) -> None:
        super().__init__()
        self.topic, self.source, self.clusters = topic, source, clusters

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(f"Migrate {self.source}/{self.topic}", classes="form-title")
            yield Label("Target cluster")
            yield Select([(c, c) for c in self.clusters], value=self.clusters[0], id="m-cluster", allow_blank=False)
            yield Label("Target topic")
            yield Input(self.topic, id="m-topic")
            yield Checkbox("Create the target topic (source's partitions and configs)", True, id="m-create")
            yield Checkbox("Translate and commit every group's offsets", True, id="m-groups")
            yield Checkbox("Follow: keep mirroring until cancelled", False, id="m-follow")
            yield Static("", id="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Start migration", variant="primary", id="start")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "start":
            self.dismiss(None)
            return
        target = str(self.query_one("#m-cluster", Select).value)
        topic = self.query_one("#m-topic", Input).value.strip() or self.topic
        if target == self.source and topic == self.topic:
            self.query_one("#form-error", Static).update("[b red]the target is the source topic: change one[/]")
            return
        self.dismiss((target, MigrateRequest(
            source_topic=self.topic, target_topic=topic, create_topic=self.query_one("#m-create", Checkbox).value,
            groups=() if self.query_one("#m-groups", Checkbox).value else None,
            follow=self.query_one("#m-follow", Checkbox).value)))


class TypeToConfirm(ModalScreen[bool]):
    """Writing into something that already exists: the user types its name again."""

    BINDINGS = [Binding("escape", "dismiss(False)", "Cancel")]

    def __init__(self, question: str, expected: str) -> None:
        super().__init__()
        self.question, self.expected = question, expected

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(self.question)
            yield Label(f"Type {self.expected} to continue")
            yield Input(id="typed")
            with Horizontal(classes="buttons"):
                yield Button("Continue", variant="error", id="yes", disabled=True)
                yield Button("Cancel", id="no")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#yes", Button).disabled = event.value.strip() != self.expected

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
