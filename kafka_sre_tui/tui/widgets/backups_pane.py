"""Backups in the configured backup directory; verify or start one from here."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.tui.table_sync import sync_rows
from kafka_sre_tui.tui.widgets.cells import num

if TYPE_CHECKING:  # the backup engine loads with the pane's first listing
    from kafka_sre_tui.engine.backup.catalog import BackupSummary
    from kafka_sre_tui.engine.storage.store import Location

COLUMNS = (("Backup id", "id"), ("Status", "status"), ("Kind", "kind"), ("Topic", "topic"),
           ("Created (UTC)", "created"), ("Records", "records"), ("Size", "size"),
           ("Codec", "codec"), ("Chain base", "chain"))


class BackupsPane(Vertical):
    def __init__(self, base: Location) -> None:
        super().__init__(id="backups-pane")
        # the pane owns its table: refreshes may arrive before it is mounted or after it is gone
        self.table: DataTable[Any] = DataTable(id="backups-table", cursor_type="row", zebra_stripes=True)
        for label, key in COLUMNS:
            self.table.add_column(label, key=key)
        self.base = base
        self.backups: list[BackupSummary] = []

    def compose(self) -> ComposeResult:
        yield Static(f"in {self.base} · n new backup · Enter show (a set: its chain) · v verify · "
                     "R restore into this cluster", classes="pane-help")
        yield self.table

    def on_mount(self) -> None:
        self.call_after_refresh(self.reload)  # after the first frame: listing loads the backup engine

    @work(exclusive=True, group="backups-list")
    async def reload(self) -> None:
        """List the backups in a thread: a bucket (or a slow disk) must not freeze the dashboard. The
        backup engine is first imported on the engine thread, where the first refresh imports the Kafka
        client: the same modules imported by two threads at once fail ("partially initialized module")."""
        engine = getattr(self.app, "engine", None)
        try:
            listing = _listed(self.base)
            self.backups = await (engine.run(listing) if engine is not None else listing)
        except KsreError as exc:  # a bucket that cannot be reached: say so, keep the dashboard up
            self.backups = []
            self.app.notify(str(exc), title="Backups", severity="error", timeout=15)
        rows: dict[str, tuple[Any, ...]] = {
            b.backup_id: (b.backup_id, b.status_text, kind_text(b), b.topic, f"{b.created_at:%Y-%m-%d %H:%M:%S}",
                          num(b.records), num(round(b.size_bytes / 1e6, 1), " MB"), b.compression, _chain_base(b))
            for b in self.backups}
        sync_rows(self.table, rows)

    def selected(self) -> BackupSummary | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((b for b in self.backups if b.backup_id == key), None)


def kind_text(b: BackupSummary) -> str:
    """As ``backups list`` prints it: ``topic``, ``full``, ``incremental #2``."""
    from kafka_sre_tui.cli.backup_sets import kind_text as text

    return text(b)


def _chain_base(b: BackupSummary) -> str:
    return b.chain_base if b.is_set and b.chain_base and b.chain_base != b.backup_id else ""


async def _listed(base: Location) -> list[BackupSummary]:
    from kafka_sre_tui.engine.backup.catalog import list_backups

    return await asyncio.to_thread(list_backups, base)
