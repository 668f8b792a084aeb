"""Rows of a large table built off the UI thread.

Building thousands of rows (formatting numbers, measuring cells) is pure Python: on a cluster of
8,000 topics and 2,500 groups it held the UI thread for seconds (bench/ui_probe.py). A pane hands
:class:`RowRenderer` a function that prepares its rows; a small table is prepared at once, a large one
in a thread while frames go on, and only the newest preparation is shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial

from textual.widget import Widget

from kafka_sre_tui.tui.widgets.live_table import LiveTable, PreparedRows

BACKGROUND_ROWS = 1_000  # more source rows than this are prepared in a thread

Prepare = Callable[[], PreparedRows]


class RowRenderer:
    def __init__(self, owner: Widget, table: LiveTable, group: str) -> None:
        self.owner, self.table, self.group = owner, table, group

    def render(self, rows: int, prepare: Prepare) -> None:
        """Show what ``prepare`` builds from ``rows`` source rows (topics, groups)."""
        if rows <= BACKGROUND_ROWS or not self.owner.is_attached:
            self.cancel()  # a large preparation still running would replace these rows when it ends
            self.table.show_rows(prepare())
            return
        # a function, not a coroutine: a worker cancelled before it starts leaves nothing unawaited
        self.owner.run_worker(partial(self._prepare_in_thread, prepare), group=self.group, exclusive=True)

    async def _prepare_in_thread(self, prepare: Prepare) -> None:
        self.table.show_rows(await asyncio.to_thread(prepare))

    def cancel(self) -> None:
        if self.owner.is_attached:
            self.owner.workers.cancel_group(self.owner, self.group)
