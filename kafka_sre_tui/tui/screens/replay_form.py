"""Replay a range of records into a topic with ``kafka-sre-tui replay``'s options (``y``): from the
selected topic, or from a group (its committed offsets: what it has not read yet)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Select, Static

from kafka_sre_tui.cli.args import parse_partitions, parse_time
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.input_checks import check_rate
from kafka_sre_tui.engine.records.filters import RecordFilter
from kafka_sre_tui.engine.records.query import RecordQuery
from kafka_sre_tui.tui.screens.form_fields import Field, FieldError, JobForm


@dataclass(frozen=True)
class ReplayChoice:
    cluster: str  # the target cluster's configured name
    query: RecordQuery  # the source range (``limit``: at most that many records copied)
    target_topic: str
    execute: bool
    rate_limit_mb_s: float | None
    keep_timestamps: bool


class ReplayForm(JobForm[ReplayChoice | None]):
    PREFIX = "y"
    SUBMIT = ("start", "Start replay")
    FIELDS = {
        "source": Field("Source topic", "--source-topic"),
        "partitions": Field("Partitions", "--partitions"),
        "group": Field("From the group's committed offsets", "--group"),
        "from_offset": Field("From offset", "--from-offset"),
        "from_time": Field("From time", "--from-time"),
        "to_offset": Field("To offset", "--to-offset"),
        "to_time": Field("To time", "--to-time"),
        "grep": Field("Value matches", "--grep"),
        "key": Field("Key matches", "--key"),
        "limit": Field("At most (records)", "--limit"),
        "cluster": Field("Target cluster", "--target-cluster"),
        "target": Field("Target topic", "--target-topic"),
        "rate_limit": Field("Rate limit (MB/s)", "--rate-limit"),
        "new_timestamps": Field("Stamp records with the time of writing", "--new-timestamps"),
        "execute": Field("Write (otherwise count only)", "--execute"),
    }

    def __init__(self, topic: str, clusters: list[str], group: str = "") -> None:
        super().__init__()
        self.topic, self.clusters, self.group = topic, clusters, group

    def heading(self) -> str:
        source = f"group {self.group}'s unread records" if self.group else "a range of records"
        return f"Replay {source} of {self.clusters[0]}/{self.topic} into a topic"

    def body(self) -> ComposeResult:
        yield from self.text("source", self.topic)
        yield from self.text("partitions", placeholder="e.g. 0,3 (empty: all)")
        yield from self.text("group", self.group, placeholder="empty: from offset or time")
        yield from self.text("from_offset", placeholder="empty: earliest")
        yield from self.text("from_time", placeholder="ISO, e.g. 2026-11-29T14:00:00Z")
        yield from self.text("to_offset", placeholder="inclusive; empty: the end")
        yield from self.text("to_time", placeholder="inclusive")
        yield from self.text("grep", placeholder="regular expression")
        yield from self.text("key", placeholder="regular expression")
        yield from self.text("limit", placeholder="empty: the whole range")
        cluster = self.FIELDS["cluster"]
        yield Horizontal(Label(f"{cluster.label} [dim]{cluster.flag}[/]", classes="field-label"),
                         Select([(c, c) for c in self.clusters], value=self.clusters[0], id="y-cluster",
                                allow_blank=False, compact=True), classes="field")
        yield from self.text("target", placeholder="e.g. orders")
        yield from self.text("rate_limit", placeholder="empty: no limit")
        yield from self.check("new_timestamps")
        yield from self.check("execute")
        yield Static("[dim]Keys, values, headers (and timestamps) are kept; each record goes to the same "
                     "partition number. A range from a group is refused while the group has active "
                     "members.[/]", classes="form-hint")

    def build(self) -> ReplayChoice:
        target = self.raw("target")
        if not target:
            raise FieldError("target", "give the topic to write into")
        starts = [name for name in ("group", "from_offset", "from_time") if self.raw(name)]
        if len(starts) > 1:
            raise FieldError(starts[1], f"choose one start: {' or '.join(self.FIELDS[n].flag for n in starts)}")
        rate = self.number("rate_limit")
        if rate is not None:
            check_rate("--rate-limit", rate)  # a ConfigError naming the option: shown under its field
        try:
            query = RecordQuery(
                self.raw("source") or self.topic, self.parse("partitions", parse_partitions),
                offset=self.whole("from_offset"), time_ms=self.parse("from_time", parse_time),
                group=self.raw("group") or None, to_offset=self.whole("to_offset"),
                to_time_ms=self.parse("to_time", parse_time),
                filter=RecordFilter.parse(self.raw("grep") or None, self.raw("key") or None, ()),
                limit=self.whole("limit"), max_scanned=None)
        except ConfigError as exc:  # the query says --offset; replay's option (and this field) is --from-offset
            if str(exc).startswith("--offset "):
                raise FieldError("from_offset", str(exc).replace("--offset", "--from-offset", 1)) from None
            raise
        return ReplayChoice(str(self.query_one("#y-cluster", Select).value), query, target, self.checked("execute"),
                            rate, not self.checked("new_timestamps"))
