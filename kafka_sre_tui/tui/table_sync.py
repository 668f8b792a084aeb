"""Update a DataTable in place (by row key) instead of clearing it, so the cursor and scroll stay put."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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
                    table.update_cell(key, column, value, update_width=True)
        else:
            table.add_row(*values, key=key)
