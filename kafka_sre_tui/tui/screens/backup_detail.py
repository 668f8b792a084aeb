"""``backups show`` in the dashboard: a set's chain and what it covers per topic (lost ranges, chain
restarts), or a one-topic backup's partitions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from kafka_sre_tui.engine.backup.set_catalog import SetView
    from kafka_sre_tui.engine.storage.manifest import Manifest


def _time(ms: int | None) -> str:
    return "-" if ms is None else f"{datetime.fromtimestamp(ms / 1000, UTC):%Y-%m-%d %H:%M:%S} UTC"


def set_text(view: SetView) -> str:
    m = view.manifest
    lines = [f"backup set {m.set_id}", f"{m.kind}, link {m.chain.get('link')} of chain {m.chain.get('base')} · "
             f"{len(m.members)} topics · {m.records:,} records · {len(m.consumer_groups)} consumer groups",
             "set.json intact" if view.intact else "set.json CHANGED after it was written (checksum mismatch)"]
    if view.chain_error:
        lines.append(f"chain BROKEN: {view.chain_error}")
    lines += ["", f"chain ({len(view.links)} links, base first)"]
    lines += [f"  link {link.chain.get('link')}  {link.set_id}  {link.kind:<11}  {link.created_at}  "
              f"{link.records:,} records" for link in view.links]
    for topic in view.topics:
        lines += ["", f"{topic.topic}: {topic.records:,} records, {_time(topic.first_timestamp)} to "
                      f"{_time(topic.last_timestamp)} (newest in link {topic.last_link})"]
        for c in sorted(topic.partitions.values(), key=lambda c: c.partition):
            span = f"{c.from_offset}-{c.to_offset - 1}" if c.to_offset > c.from_offset else "empty"
            lines.append(f"  partition {c.partition}: offsets {span}, {c.records:,} records since link {c.since_link}")
        lines += [f"  lost: partition {x.partition} offsets {x.from_offset}-{x.to_offset - 1} deleted by retention "
                  f"before link {x.link}" for x in topic.lost]
        lines += [f"  chain restart at link {r.link}: {r.note}" for r in topic.restarts]
    return "\n".join(lines)


def backup_text(manifest: Manifest, intact: bool) -> str:
    lines = [f"backup {manifest.backup_id}", f"topic {manifest.topic['name']} · {manifest.records:,} records · "
             f"{manifest.compression.get('codec')} · created {manifest.created_at}",
             "manifest intact" if intact else "manifest CHANGED after it was written (checksum mismatch)", ""]
    lines += [f"  partition {p.partition}: offsets {p.start_offset}-{p.end_offset - 1}, {p.records:,} records, "
              f"{_time(p.first_timestamp)} to {_time(p.last_timestamp)}" for p in manifest.partitions]
    return "\n".join(lines)


class BackupDetail(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Back")]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="backup-detail"):
            yield Static(escape(self.text), id="backup-text")
        yield Footer()
