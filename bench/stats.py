"""Repeats and their summary: medians of time, the maximum of peak RSS."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Row:
    """One measured operation: ours or a peer, summarised over its repeats."""

    name: str
    kind: str  # "ours" | "peer"
    available: bool = True
    note: str = ""
    seconds: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    engine_mb_s: list[float] = field(default_factory=list)  # the tool's own figure (ours: metrics)
    topic_bytes: int = 0
    records: int = 0
    size_bytes: int | None = None  # what the run stored (a backup's files)

    def add(self, seconds: float, rss_mb: float, engine_mb_s: float | None = None) -> None:
        self.seconds.append(seconds)
        self.peak_rss_mb.append(rss_mb)
        if engine_mb_s is not None:
            self.engine_mb_s.append(engine_mb_s)

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds) if self.seconds else 0.0

    @property
    def mb_s(self) -> float:
        """Topic MB (the broker's log bytes of the data moved) per wall-clock second of the whole command."""
        return self.topic_bytes / 1e6 / self.median_seconds if self.seconds and self.median_seconds else 0.0

    @property
    def records_s(self) -> float:
        return self.records / self.median_seconds if self.seconds and self.median_seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc.update(median_seconds=round(self.median_seconds, 3), mb_s=round(self.mb_s, 1),
                   records_s=round(self.records_s), max_peak_rss_mb=round(max(self.peak_rss_mb, default=0), 1),
                   median_engine_mb_s=round(statistics.median(self.engine_mb_s), 1) if self.engine_mb_s else None)
        return doc


def ratio(ours: Row | None, peer: Row | None, attr: str = "mb_s") -> float | None:
    if ours is None or peer is None or not (ours.available and peer.available):
        return None
    a, b = _value(ours, attr), _value(peer, attr)
    return a / b if a and b else None


def _value(row: Row, attr: str) -> float:
    if attr == "engine_mb_s":
        return statistics.median(row.engine_mb_s) if row.engine_mb_s else 0.0
    return float(getattr(row, attr))
