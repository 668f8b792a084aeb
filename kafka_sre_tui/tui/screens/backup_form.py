"""Start a backup: ``kafka-sre-tui backup``'s options as a form, checked by the engine before anything runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Select, Static

from kafka_sre_tui.cli.args import backup_location, parse_partitions, parse_time
from kafka_sre_tui.config import COMPRESSIONS, BackupSettings
from kafka_sre_tui.engine.backup.plan import BackupRequest, validate_request
from kafka_sre_tui.engine.backup.set_plan import SetRequest, validate_set_request
from kafka_sre_tui.tui.screens.form_fields import Field, FieldError, JobForm

if TYPE_CHECKING:
    from kafka_sre_tui.engine.storage.store import Location

CHECKPOINT_SECONDS = 5.0  # the CLI's default
ROLL_SECONDS = 60.0  # the CLI's default
SET_ONLY = "applies to a backup set: give topic patterns, or tick every topic"
ONE_TOPIC_ONLY = ("partitions", "max_messages", "from_offset", "to_offset", "from_time", "to_time")


class BackupForm(JobForm[BackupRequest | SetRequest | None]):
    """One topic (``--topic``), or a backup set (``--topics`` patterns or ``--all-topics``): a full set,
    an incremental link, or a continuous backup sealing a link every ``--roll-seconds``."""

    PREFIX = "f"
    NOTIFIES = True
    SUBMIT = ("start", "Start backup")
    FIELDS = {
        "topic": Field("Topic", "--topic"),
        "topics": Field("Or a set: topic patterns", "--topics"),
        "exclude": Field("└ except the topics matching", "--exclude"),
        "all_topics": Field("A set of every topic", "--all-topics"),
        "incremental": Field("Incremental: what follows the newest set of this selection", "--incremental"),
        "continuous": Field("Continuous: keep following, seal a link every roll", "--continuous"),
        "roll_seconds": Field("└ roll every (s)", "--roll-seconds"),
        "partitions": Field("Partitions", "--partitions"),
        "compression": Field("Compression", "--compression"),
        "level": Field("Compression level", "--level"),
        "max_messages": Field("Max messages per partition", "--max-messages"),
        "from_offset": Field("From offset", "--from-offset"),
        "to_offset": Field("To offset, inclusive", "--to-offset"),
        "from_time": Field("From time", "--from-time"),
        "to_time": Field("To time, inclusive", "--to-time"),
        "rate_limit": Field("Rate limit (MB/s)", "--rate-limit"),
        "checkpoint_seconds": Field("Checkpoint every (s)", "--checkpoint-seconds"),
        "backup_dir": Field("Backup directory", "--backup-dir"),
    }

    def __init__(self, topic: str, settings: BackupSettings) -> None:
        super().__init__()
        self.topic = topic
        self.settings = settings

    def heading(self) -> str:
        return "New backup"

    def body(self) -> ComposeResult:
        yield from self.text("topic", self.topic)
        yield from self.text("partitions", placeholder="e.g. 0,3 (empty: all)")
        compression = self.FIELDS["compression"]
        yield Horizontal(Label(f"{compression.label} [dim]{compression.flag}[/]", classes="field-label"),
                         Select([(c, c) for c in COMPRESSIONS], value=self.settings.compression, id="f-compression",
                                allow_blank=False, compact=True), classes="field")
        yield from self.text("level", placeholder="gzip 1-9, lz4 0-16, zstd 1-22")
        yield from self.text("max_messages", placeholder="empty: all")
        yield from self.text("from_offset", placeholder="empty: earliest")
        yield from self.text("to_offset", placeholder="empty: the end")
        yield from self.text("from_time", placeholder="2026-11-24T10:00:00Z")
        yield from self.text("to_time", placeholder="ISO-8601; no zone: UTC")
        yield from self.text("topics", placeholder="e.g. orders-*,payments (clear Topic)")
        yield from self.text("exclude", placeholder="e.g. *-internal")
        yield from self.check("all_topics")
        yield from self.check("incremental")
        yield from self.check("continuous")
        yield from self.text("roll_seconds", f"{ROLL_SECONDS:g}")
        yield self.advanced(
            self.text("rate_limit", placeholder="empty: no limit"),
            self.text("checkpoint_seconds", f"{CHECKPOINT_SECONDS:g}"),
            self.text("backup_dir", str(self.settings.base_path)))
        yield Static("[dim]Enter starts · Esc cancels · the consumer groups' offsets are always saved[/]",
                     classes="form-hint")

    def build(self) -> BackupRequest | SetRequest:
        topic = self.raw("topic")
        base = self.parse("backup_dir", lambda text: backup_location(text, self.settings)) or backup_location(
            None, self.settings)
        compression = str(self.query_one("#f-compression", Select).value)
        if self.raw("topics") or self.checked("all_topics"):
            return self._set_request(topic, base, compression)
        if not topic:
            raise FieldError("topic", "give the topic to back up (or topic patterns for a set)")
        if self.raw("exclude"):
            raise FieldError("exclude", SET_ONLY)
        for name in ("incremental", "continuous"):
            if self.checked(name):
                raise FieldError(name, SET_ONLY)
        request = BackupRequest(
            topic=topic, base_path=base, compression=compression,
            level=self.whole("level"), partitions=self.parse("partitions", parse_partitions),
            from_offset=self.whole("from_offset"), to_offset=self.whole("to_offset"),
            from_time_ms=self.parse("from_time", parse_time), to_time_ms=self.parse("to_time", parse_time),
            max_messages=self.whole("max_messages"), max_concurrent_backups=self.settings.max_concurrent_backups,
            checkpoint_seconds=self.number_or("checkpoint_seconds", CHECKPOINT_SECONDS),
            rate_limit_mb_s=self.number("rate_limit"))
        validate_request(request)
        return request

    def _set_request(self, topic: str, base: Location, compression: str) -> SetRequest:
        if topic:
            raise FieldError("topic", "give either a topic or topic patterns (a set), not both: clear one")
        for name in ONE_TOPIC_ONLY:
            if self.raw(name):
                raise FieldError(name, "a backup set takes whole topics: clear this field")
        request = SetRequest(
            base_path=base, topics=self.parse("topics", _patterns) or (),
            exclude=self.parse("exclude", _patterns) or (), all_topics=self.checked("all_topics"),
            compression=compression, level=self.whole("level"), incremental=self.checked("incremental"),
            continuous=self.checked("continuous"), roll_seconds=self.number_or("roll_seconds", ROLL_SECONDS),
            max_concurrent_backups=self.settings.max_concurrent_backups,
            checkpoint_seconds=self.number_or("checkpoint_seconds", CHECKPOINT_SECONDS),
            rate_limit_mb_s=self.number("rate_limit"))
        validate_set_request(request)
        return request


def _patterns(text: str) -> tuple[str, ...]:
    """As the CLI reads ``--topics``: comma-separated shell-style patterns."""
    return tuple(p.strip() for p in text.split(","))
