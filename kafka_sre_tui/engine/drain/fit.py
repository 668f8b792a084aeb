"""Least-squares line through (time, value) points: a rate that one late commit does not swing."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Fit:
    slope: float  # units per second
    stderr: float | None  # standard error of the slope; None with only two points (no residual left)
    points: int


def fit_line(points: Sequence[tuple[float, float]]) -> Fit | None:
    """Ordinary least squares of value on time. None with fewer than two points or no time spread.

    Times and values are centred before summing, so epoch seconds and offsets near 2**63 keep
    their precision."""
    n = len(points)
    if n < 2:
        return None
    t0, v0 = points[0]
    ts = [t - t0 for t, _ in points]
    vs = [float(v - v0) for _, v in points]
    mt = sum(ts) / n
    mv = sum(vs) / n
    sxx = sum((t - mt) ** 2 for t in ts)
    if sxx <= 0.0 or not math.isfinite(sxx):
        return None
    sxy = sum((t - mt) * (v - mv) for t, v in zip(ts, vs, strict=True))
    slope = sxy / sxx
    if not math.isfinite(slope):
        return None
    stderr = None
    if n > 2:
        ssr = sum((v - mv - slope * (t - mt)) ** 2 for t, v in zip(ts, vs, strict=True))
        stderr = math.sqrt(max(ssr, 0.0) / (n - 2) / sxx)
    return Fit(slope, stderr, n)


def after_last_drop(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points after the value last went down (an offset reset): a rate across a reset is meaningless."""
    start = 0
    for i in range(1, len(points)):
        if points[i][1] < points[i - 1][1]:
            start = i
    return list(points[start:])
