"""Update a DataTable in place (by row key) instead of clearing it, so the cursor and scroll stay put."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable


def sync_rows(table: DataTable[Any], rows: Mapping[str, Sequence[Any]]) -> None:
    existing = {key.value for key in table.rows}
    for key in existing - rows.keys():
        table.remove_row(key)
    columns = list(table.columns)
    for key, values in rows.items():
        if key in existing:
            for column, value in zip(columns, values, strict=True):
                if table.get_cell(key, column) != value:
                    # Re-measuring a column walks every row: only when this cell no longer fits.
                    # (Doing it for every change made a refresh of 2,000 topics freeze the UI for 37 s.)
                    wider = _width(value) > table.columns[column].content_width
                    table.update_cell(key, column, value, update_width=wider)
        else:
            table.add_row(*values, key=key)


def _width(value: Any) -> int:
    return value.cell_len if isinstance(value, Text) else cell_len(str(value))
