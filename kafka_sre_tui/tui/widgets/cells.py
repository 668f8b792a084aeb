"""Table cells as the user should read them: numbers right-aligned with separators, units attached."""

from __future__ import annotations

from rich.text import Text


def num(value: int | float | None, unit: str = "") -> Text:
    if value is None:
        return Text("-", justify="right")
    shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
    return Text(f"{shown}{unit}", justify="right")


def sort_key(cell: object) -> float:
    text = str(cell).replace(",", "").split(" ")[0]
    try:
        return float(text)
    except ValueError:
        return -1.0
