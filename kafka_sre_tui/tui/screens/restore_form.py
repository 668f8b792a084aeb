"""Restore a backup into the active cluster: the CLI's options, then the dry run's preflight before writing."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from kafka_sre_tui.cli.args import parse_partitions, parse_time
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.restore.plan import RestoreRequest, parse_partition_map, validate_request
from kafka_sre_tui.engine.restore.preflight import Preflight
from kafka_sre_tui.engine.storage.store import Location
from kafka_sre_tui.engine.target.checks import FAIL
from kafka_sre_tui.tui.screens.form_fields import Field, FieldError, JobForm

CHECKPOINT_SECONDS = 1.0  # the CLI's default


class RestoreForm(JobForm[RestoreRequest | None]):
    """``kafka-sre-tui restore``'s options for the selected backup. Answers with the request as the user
    set it; the dashboard runs it as a dry run first and shows the preflight (unless it is a resume)."""

    NOTIFIES = True
    PREFIX = "r"
    SUBMIT = ("check", "Check (dry run)")
    FIELDS = {
        "topic": Field("Target topic", "--target-topic"),
        "create": Field("Create the topic if missing (as backed up)", "--create-topic"),
        "partitions": Field("Partitions of the backup", "--partitions"),
        "partition_map": Field("Partition map", "--partition-map"),
        "from_offset": Field("From offset", "--from-offset"),
        "to_offset": Field("To offset, inclusive", "--to-offset"),
        "from_time": Field("From time", "--from-time"),
        "to_time": Field("To time, inclusive", "--to-time"),
        "offsets": Field("Restore consumer offsets", "--restore-consumer-offsets"),
        "groups": Field("└ only these groups (G1 G2)", "GROUP ..."),
        "dry_run": Field("Dry run only: check, write nothing", "--dry-run"),
        "rate_limit": Field("Rate limit (MB/s)", "--rate-limit"),
        "replication_factor": Field("Replication factor", "--replication-factor"),
        "force": Field("Into a non-empty topic; offsets may go back", "--force"),
        "override_retention": Field("Created topic keeps old records", "--override-retention"),
        "new_timestamps": Field("Stamp records with the time of writing", "--new-timestamps"),
        "resume": Field("Resume an interrupted restore into the topic", "--resume"),
        "checkpoint_seconds": Field("Checkpoint every (s)", "--checkpoint-seconds"),
        "state_dir": Field("Checkpoints directory", "--state-dir"),
    }

    def __init__(self, base: Location, backup_id: str, topic: str, cluster: str) -> None:
        super().__init__()
        self.base, self.backup_id, self.topic, self.cluster = base, backup_id, topic, cluster

    def heading(self) -> str:
        return f"Restore {self.backup_id}\ninto cluster {self.cluster}"

    def body(self) -> ComposeResult:
        yield from self.text("topic", self.topic)
        yield from self.check("create", True)
        yield from self.text("partitions", placeholder="e.g. 0,3 (empty: all)")
        yield from self.text("partition_map", placeholder="SOURCE:TARGET,... e.g. 0:1,1:0")
        yield from self.text("from_offset", placeholder="empty: the backup's first")
        yield from self.text("to_offset", placeholder="empty: the backup's last")
        yield from self.text("from_time", placeholder="2026-11-24T10:00:00Z")
        yield from self.text("to_time", placeholder="ISO-8601; no zone: UTC")
        yield from self.check("offsets")
        yield from self.text("groups", placeholder="empty: every backed-up group")
        yield from self.check("dry_run")
        yield self.advanced(
            self.text("rate_limit", placeholder="empty: no limit"),
            self.text("replication_factor", placeholder="empty: as backed up"),
            self.check("force"), self.check("override_retention"), self.check("new_timestamps"),
            self.check("resume"),
            self.text("checkpoint_seconds", f"{CHECKPOINT_SECONDS:g}"),
            self.text("state_dir", placeholder="empty: BACKUP_DIR/.restores"))

    def build(self) -> RestoreRequest:
        offsets = offsets_to_restore(self)
        request = RestoreRequest(
            backup_base=self.base, backup_id=self.backup_id, target_topic=self.raw("topic") or self.topic,
            partitions=self.parse("partitions", parse_partitions),
            partition_map=self.parse("partition_map", parse_partition_map),
            from_offset=self.whole("from_offset"), to_offset=self.whole("to_offset"),
            from_time_ms=self.parse("from_time", parse_time), to_time_ms=self.parse("to_time", parse_time),
            dry_run=self.checked("dry_run"), rate_limit_mb_s=self.number("rate_limit"),
            create_topic=self.checked("create"), replication_factor=self.whole("replication_factor"),
            restore_consumer_offsets=offsets, force=self.checked("force"),
            override_retention=self.checked("override_retention"),
            new_timestamps=self.checked("new_timestamps"), resume=self.checked("resume"),
            checkpoint_seconds=self.number_or("checkpoint_seconds", CHECKPOINT_SECONDS),
            state_dir=self.parse("state_dir", lambda text: Path(text).expanduser()))
        validate_request(request)
        return request


def offsets_to_restore(form: JobForm[Any]) -> tuple[str, ...] | None:
    """The groups whose offsets a restore form asks for (``()``: every one; None: none), once the form's
    groups, offsets, dry-run and resume fields agree."""
    groups = form.parse("groups", _words)
    if groups is not None and not form.checked("offsets"):
        raise FieldError("groups", "check 'Restore consumer offsets' too, or clear the groups")
    if form.checked("dry_run") and form.checked("resume"):
        raise FieldError("dry_run", "a resume has no dry run (it goes on writing at once): uncheck one")
    return (groups or ()) if form.checked("offsets") else None


def _words(text: str) -> tuple[str, ...]:
    """Group names as the shell hands them to ``--restore-consumer-offsets G1 G2``."""
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise ConfigError(f"{exc}: quote names the way a shell would") from None


MARKS = {"ok": "[green]ok  [/]", "warn": "[yellow]warn[/]", FAIL: "[b red]FAIL[/]"}


class PreflightModal(ModalScreen[bool]):
    """A restore's dry run: its checks, then Start. Writing into what exists needs ``confirm`` typed
    first (its field: ``CONFIRM_ID``); a dry run asked for on its own only shows the checks."""

    BINDINGS = [Binding("escape", "dismiss(False)", "Cancel")]
    CONFIRM_ID = "confirm"

    def __init__(self, title: str, lines: list[str], ok: bool, check_only: bool, confirm: str | None,
                 ask: str) -> None:
        super().__init__()
        self.title_line, self.lines, self.ok, self.check_only = title, lines, ok, check_only
        self.confirm, self.ask = confirm, ask

    def compose(self) -> ComposeResult:
        with Vertical(id="form", classes="job-form"):
            yield Static(self.title_line, classes="form-title")
            with VerticalScroll(id="form-body", can_focus=False):
                yield Static("\n".join(self.lines) or "no checks")
            if self.check_only:
                yield Static("Dry run: nothing written. " + ("The restore would proceed." if self.ok else
                                                             "[b red]The restore would be refused.[/]"))
            elif not self.ok:
                yield Static("[b red]Refused: fix the failed checks (R again to change the options).[/]")
            elif self.confirm is not None:
                yield Label(self.ask)
                yield Input(id=self.CONFIRM_ID)
            with Horizontal(classes="buttons"):
                if self.ok and not self.check_only:
                    yield Button("Start restore", variant="error", id="start", disabled=self.confirm is not None)
                yield Button("Close" if self.check_only else "Cancel", id="cancel")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#start", Button).disabled = event.value.strip() != self.confirm

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.confirm:
            self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "start")


class PreflightScreen(PreflightModal):
    """The dry run's checks of a one-topic restore. Writing into an existing topic needs its name typed again."""

    AUTO_FOCUS = "#confirm-topic, #cancel"  # never Start: writing takes a deliberate Tab (or the typed name)
    CONFIRM_ID = "confirm-topic"

    def __init__(self, preflight: Preflight, check_only: bool = False) -> None:
        p = preflight
        super().__init__(f"Preflight: {p.records:,} records ({p.bytes / 1e6:,.1f} MB) into {p.cluster}/{p.topic}"
                         f"{' (created)' if p.create else ' (existing topic)'}",
                         [f"{MARKS.get(c.level, c.level)} {c.name}: {c.message}" for c in p.checks], p.ok,
                         check_only, None if p.create else p.topic,
                         f"The topic exists: type its name ({p.topic}) to write into it")
        self.preflight = preflight
