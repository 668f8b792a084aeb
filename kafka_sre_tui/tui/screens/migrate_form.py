"""Migrate the selected topic to another cluster or topic with the CLI's options; an existing target
needs its name typed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from kafka_sre_tui.cli.args import parse_groups, parse_partitions
from kafka_sre_tui.engine.migrate.request import MigrateRequest, default_state_dir, validate
from kafka_sre_tui.engine.restore.plan import parse_partition_map
from kafka_sre_tui.tui.screens.form_fields import Field, FieldError, JobForm

CHECKPOINT_SECONDS = 1.0  # the CLI's default


@dataclass(frozen=True)
class MigrateChoice:
    cluster: str  # the target cluster's configured name
    request: MigrateRequest
    verify: bool  # compare both sides when the copy ends, as ``migrate`` does unless --no-verify


class MigrateForm(JobForm[MigrateChoice | None]):
    """``kafka-sre-tui migrate``'s options, from the active cluster's selected topic."""

    PREFIX = "m"
    NOTIFIES = True
    SUBMIT = ("start", "Start migration")
    FIELDS = {
        "cluster": Field("Target cluster", "--target-cluster"),
        "topic": Field("Target topic", "--target-topic"),
        "create": Field("Create the target topic if missing", "--create-topic"),
        "partitions": Field("Source partitions", "--partitions"),
        "partition_map": Field("Partition map", "--partition-map"),
        "rate_limit": Field("Rate limit (MB/s)", "--rate-limit"),
        "follow": Field("Follow: keep mirroring until cancelled", "--follow"),
        "groups": Field("Translate and commit group offsets", "--all-groups"),
        "group_ids": Field("└ only these groups (G1,G2)", "--groups"),
        "verify": Field("Verify both sides when the copy ends", "off: --no-verify"),
        "replication_factor": Field("Replication factor", "--replication-factor"),
        "force": Field("Into a non-empty target; offsets may go back", "--force"),
        "checkpoint_seconds": Field("Checkpoint every (s)", "--checkpoint-seconds"),
        "state_dir": Field("Checkpoints directory", "--state-dir"),
    }

    def __init__(self, topic: str, source: str, clusters: list[str]) -> None:
        super().__init__()
        self.topic, self.source, self.clusters = topic, source, clusters

    def heading(self) -> str:
        return f"Migrate {self.source}/{self.topic}"

    def body(self) -> ComposeResult:
        cluster = self.FIELDS["cluster"]
        yield Horizontal(Label(f"{cluster.label} [dim]{cluster.flag}[/]", classes="field-label"),
                         Select([(c, c) for c in self.clusters], value=self.clusters[0], id="m-cluster",
                                allow_blank=False, compact=True), classes="field")
        yield from self.text("topic", self.topic)
        yield from self.check("create", True)
        yield from self.text("partitions", placeholder="e.g. 0,3 (empty: all)")
        yield from self.text("partition_map", placeholder="SOURCE:TARGET,... e.g. 0:1,1:0")
        yield from self.text("rate_limit", placeholder="empty: no limit")
        yield from self.check("follow")
        yield from self.check("groups", True)
        yield from self.text("group_ids", placeholder="empty: every group")
        yield from self.check("verify", True)
        yield self.advanced(
            self.text("replication_factor", placeholder="empty: as the source"),
            self.check("force"),
            self.text("checkpoint_seconds", f"{CHECKPOINT_SECONDS:g}"),
            self.text("state_dir", str(default_state_dir())))

    def build(self) -> MigrateChoice:
        target = str(self.query_one("#m-cluster", Select).value)
        topic = self.raw("topic") or self.topic
        if target == self.source and topic == self.topic:
            raise FieldError("topic", "the target is the source topic: change the topic or the cluster")
        names = self.parse("group_ids", parse_groups)
        if names and not self.checked("groups"):
            raise FieldError("group_ids", "check 'Translate and commit group offsets' too, or clear the groups")
        request = MigrateRequest(
            source_topic=self.topic, target_topic=topic, partitions=self.parse("partitions", parse_partitions),
            partition_map=self.parse("partition_map", parse_partition_map), follow=self.checked("follow"),
            groups=(names or ()) if self.checked("groups") else None, rate_limit_mb_s=self.number("rate_limit"),
            create_topic=self.checked("create"), replication_factor=self.whole("replication_factor"),
            force=self.checked("force"), checkpoint_seconds=self.number_or("checkpoint_seconds", CHECKPOINT_SECONDS),
            state_dir=self.parse("state_dir", lambda text: Path(text).expanduser()) or default_state_dir())
        validate(request)
        return MigrateChoice(target, request, self.checked("verify") and not request.follow)


class TypeToConfirm(ModalScreen[bool]):
    """Writing into something that already exists: the user types its name again."""

    BINDINGS = [Binding("escape", "dismiss(False)", "Cancel")]
    AUTO_FOCUS = "#typed"

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

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.expected:
            self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
