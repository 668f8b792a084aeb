"""A lag trend in one table cell: the last values as block characters."""

from __future__ import annotations

from collections.abc import Sequence

_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 12) -> str:
    recent = list(values)[-width:]
    if not recent:
        return ""
    low, high = min(recent), max(recent)
    if high == low:
        return _BLOCKS[0 if high == 0 else 3] * len(recent)
    scale = (len(_BLOCKS) - 1) / (high - low)
    return "".join(_BLOCKS[round((v - low) * scale)] for v in recent)
