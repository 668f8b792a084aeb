"""Where the record view starts (``s``): `records`' options --partition, and one of --tail, --offset,
--time or --group (none: the earliest offset)."""

from __future__ import annotations

import dataclasses

from textual.app import ComposeResult
from textual.widgets import Static

from kafka_sre_tui.cli.args import parse_partitions, parse_time
from kafka_sre_tui.engine.records.query import RecordQuery
from kafka_sre_tui.engine.records.render import timestamp_text
from kafka_sre_tui.tui.screens.form_fields import Field, JobForm


class RecordsStartForm(JobForm[RecordQuery | None]):
    PREFIX = "s"
    SUBMIT = ("start", "Read")
    FIELDS = {
        "partitions": Field("Partitions", "--partition"),
        "tail": Field("The last N of each", "--tail"),
        "offset": Field("From offset", "--offset"),
        "time": Field("From time (first at or after)", "--time"),
        "group": Field("From a group's committed offsets", "--group"),
    }

    def __init__(self, query: RecordQuery) -> None:
        super().__init__()
        self.current = query

    def heading(self) -> str:
        return f"Read {self.current.topic} from…"

    def body(self) -> ComposeResult:
        q = self.current
        yield from self.text("partitions", ",".join(map(str, q.partitions or ())), "e.g. 0,3 (empty: all)")
        yield from self.text("tail", "" if q.tail is None else str(q.tail), "N")
        yield from self.text("offset", "" if q.offset is None else str(q.offset), "the same in each partition")
        yield from self.text("time", "" if q.time_ms is None else timestamp_text(q.time_ms),
                             "ISO, e.g. 2026-11-29T14:00:00Z")
        yield from self.text("group", q.group or "", "group id")
        yield Static("[dim]One start at most; all empty: the earliest offset.[/]", classes="form-hint")

    def build(self) -> RecordQuery:
        return dataclasses.replace(
            self.current, partitions=self.parse("partitions", parse_partitions), tail=self.whole("tail"),
            offset=self.whole("offset"), time_ms=self.parse("time", parse_time), group=self.raw("group") or None)
