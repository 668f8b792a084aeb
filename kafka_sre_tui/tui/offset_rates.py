"""Produce rates from the latest offsets of two successive refreshes, per partition and per topic."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

from kafka_sre_tui.engine.models import TopicInfo


class OffsetRates:
    """Keeps one sample (time, latest offset) and one rate per partition of the topics seen last:
    memory follows the cluster's size, not how long the dashboard runs."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._samples: dict[str, tuple[float, dict[int, int]]] = {}  # topic -> (time, partition -> latest)
        self._rates: dict[str, dict[int, float]] = {}  # topic -> partition -> msg/s

    def update(self, topics: Iterable[TopicInfo]) -> None:
        now = self.clock()
        samples: dict[str, tuple[float, dict[int, int]]] = {}
        rates: dict[str, dict[int, float]] = {}
        for t in topics:
            latest = {p.partition: p.latest_offset for p in t.partitions if p.latest_offset is not None}
            before = self._samples.get(t.name)
            if before is not None and now > before[0]:
                seconds, earlier = now - before[0], before[1]
                # max(0, ...): a topic deleted and created again starts its offsets over
                rates[t.name] = {p: max(0.0, (offset - earlier[p]) / seconds)
                                 for p, offset in latest.items() if p in earlier}
            elif t.name in self._rates:
                rates[t.name] = self._rates[t.name]
            samples[t.name] = (now, latest)
        self._samples, self._rates = samples, rates

    def clear(self) -> None:
        self._samples, self._rates = {}, {}

    def partition_rates(self, topic: str) -> Mapping[int, float]:
        """msg/s of each partition of ``topic``; empty until two refreshes have seen it."""
        return self._rates.get(topic, {})

    def topic_rate(self, topic: str) -> float | None:
        rates = self._rates.get(topic)
        return sum(rates.values()) if rates else None
